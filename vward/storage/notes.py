"""Clinicians' notes on a patient's record, append-only."""

from __future__ import annotations

import asyncpg

from vward.storage.pool import Conn


async def add_note(conn: Conn, patient_id: int, author: str, text: str) -> asyncpg.Record:
    """Append a note; returns its id and time."""
    row: asyncpg.Record = await conn.fetchrow(
        "INSERT INTO patient_notes (patient_id, author, text) VALUES ($1, $2, $3) RETURNING id, at",
        patient_id,
        author,
        text,
    )
    return row


async def list_notes(conn: Conn, patient_id: int, limit: int) -> list[asyncpg.Record]:
    """Newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, at, author, text FROM patient_notes WHERE patient_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        patient_id,
        limit,
    )
    return rows
