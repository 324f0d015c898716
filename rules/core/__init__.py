"""Pure rules core: every decision is a function of its inputs, `now` included.

Modules: news2 (RCP 2017 scoring), ruleset (rule sets as validated data), evaluate (all rule families:
thresholds, trends, staleness, overrides), reconcile (findings vs open alerts), lifecycle (alert actions),
escalation (tier timing), triage (ward list order), window + alertbook (in-memory patient state shared by
golden tests and replay), replay + burden (rule set preview). model holds the values that flow between them.
"""
