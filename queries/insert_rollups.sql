-- Writes the rollups of snapshot $1: unit $2[i]'s counts are elements (i-1)*$3+1 .. i*$3 of the
-- flat arrays $4..$8 (levels 0-3, unknown) and its scores of $9, one per scope in the snapshot's
-- order.
INSERT INTO unit_rollups (snapshot_id, unit_id, level0, level1, level2, level3, unknown, score)
SELECT $1, u.id,
       ($4::int[])[(u.i - 1) * $3 + 1 : u.i * $3], ($5::int[])[(u.i - 1) * $3 + 1 : u.i * $3],
       ($6::int[])[(u.i - 1) * $3 + 1 : u.i * $3], ($7::int[])[(u.i - 1) * $3 + 1 : u.i * $3],
       ($8::int[])[(u.i - 1) * $3 + 1 : u.i * $3], ($9::float8[])[(u.i - 1) * $3 + 1 : u.i * $3]
FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, i)
