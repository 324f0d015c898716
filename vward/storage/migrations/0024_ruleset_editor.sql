-- Who last replaced a draft's body (null: nobody since its author), so that with four eyes
-- (VWARD_RULESET_FOUR_EYES) neither its author nor its last editor publishes it.
ALTER TABLE rule_sets ADD COLUMN edited_by text;
