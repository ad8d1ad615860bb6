"""Parsing and row rules, generated from the contract as one DuckDB query over the staged text cells.

For every contract column the query yields the typed value `p_<column>`; for every row it yields
`_problems`, a list of `{column_name, reason_code, reason}` in a fixed order (malformed row first, then the
columns in contract order, then the key), empty for a row that is accepted. Reason codes:

| code | meaning |
|---|---|
| truncated_row, too_many_fields, invalid_json | the row itself is malformed |
| missing_required | a required cell is empty |
| invalid_date, not_a_number, invalid_boolean, unknown_enum | the cell does not parse as its type |
| negative_number, out_of_range | below the contract minimum, or not an allowed value |
| future_date, before_2000 | a date after the load time, or before the contract's earliest date |
| due_before_received, finished_before_received, ... | a date earlier than the one it must follow |
| invalid_period_start | `period_start` is not the first day of its month or quarter |
| duplicate_id | the key appears more than once in the file (every occurrence) |
| unknown_unit, unknown_parent, unknown_procedure | a unit, parent unit or procedure code not found in the
  reference snapshot that applies (`unknown_reference` for other references; a contract may name the code) |

A row keeps every problem it has. A cell left empty because its line ended early (a truncated row, a broken
JSON line) is part of that one problem, not a `missing_required` of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipelines.contracts import Column, FeedContract

CHECKED_TABLE = "_ingest_checked"
PROBLEM_TYPE = "struct(column_name varchar, reason_code varchar, reason varchar)"
STAGE_TABLE = "_ingest_stage"  # what every reader leaves behind (readers.STAGE_TABLE)

_DAY_FIRST_FORMATS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y/%m/%d"]
_OTHER_FORMATS = ["%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S.%f"]
_OFFSET = r"^(.*\d)\s*(Z|[+-]\d{2}:?\d{2})$"

TRUE_SPELLINGS = ("true", "t", "1", "1.0", "x", "có", "co", "y", "yes", "đúng", "đạt")
FALSE_SPELLINGS = ("false", "f", "0", "0.0", "không", "khong", "n", "no", "sai", "không đạt")

DATE_EXPECTED = "expected ISO 2026-03-31, 31/03/2026 or an Excel serial"


@dataclass(frozen=True)
class ReferenceSet:
    """A temp table holding the codes a reference column must resolve to (`None`: not checked)."""

    column: str
    table: str | None  # a relation with one column `code`; None when the column is checked in-file


def _q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _map(pairs: list[tuple[str, str]], *, quote: bool = True) -> str:
    """A SQL map literal from text keys to text values (`quote=False`: values are SQL already)."""
    return "map {" + ", ".join(f"{_q(k)}: {_q(v) if quote else v}" for k, v in pairs) + "}"


def _norm(expr: str) -> str:
    """The SQL twin of `contracts.normalise_label`."""
    return f"lower(trim(regexp_replace(nfc_normalize({expr}), '[\\s\\x{{00A0}}]+', ' ', 'g')))"


def _without_blanks(v: str) -> str:
    return f"regexp_replace({v}, '[\\s\\x{{00A0}}]', '', 'g')"


def _plain_number(v: str) -> str:
    """A cell without a comma cast as it is. The blanks `_parse_number` removes first are either at the cell's
    ends, where the cast skips them too, or inside it, where this cast fails (NULL) and the full reading
    applies; so where this is not NULL it is the value `_parse_number` reads."""
    return f"case when not contains({v}, ',') then try_cast({v} as double) end"


def _number_to_clean(v: str) -> str:
    """The cell without blanks, only where `_plain_number` cannot read it (NULL elsewhere): computed in its
    own step so that the regular expression runs for those cells only."""
    return f"case when {_plain_number(v)} is null then {_without_blanks(v)} end"


def _parse_number(v: str, cleaned: str | None = None) -> str:
    """Decimal comma or point; thousands separators only when both appear (the last one is the decimal).
    `cleaned`: a column holding `v` without blanks already (see `_number_to_clean`)."""
    s = cleaned or _without_blanks(v)
    return f"""try_cast(case
        when contains({s}, ',') and contains({s}, '.') then
            case when regexp_full_match({s}, '.*,[^.]*') then replace(replace({s}, '.', ''), ',', '.')
                 else replace({s}, ',', '') end
        else replace({s}, ',', '.') end as double)"""


def _parse_timestamp(v: str, deadline: bool) -> str:
    """Excel serial, ISO or day-first text, optional UTC offset (converted to UTC+7); a date-only deadline
    is the end of that day. Cheap tests pick the branch so the common shapes never reach a format list."""
    serial_value = f"try_cast({v} as double)"
    serial = (
        f"case when {serial_value} between 1 and 2958465 then timestamp '1899-12-30' + "
        f"to_microseconds(cast(round({serial_value} * 86400000000) as bigint)) end"
    )
    has_offset = (
        f"({v} like '%Z' or {v} like '%+__:__' or {v} like '%+____' or ({v} like '%-__:__' and length({v}) > 19))"
    )
    base = f"regexp_replace({v}, {_q(_OFFSET)}, '\\1')"
    offset = f"regexp_extract({v}, {_q(_OFFSET)}, 2)"
    offset_minutes = (
        f"(case when {offset} = 'Z' then 0 else "
        f"(case when left({offset}, 1) = '-' then -1 else 1 end) * "
        f"(try_cast(substr({offset}, 2, 2) as integer) * 60 + try_cast(right({offset}, 2) as integer)) end)"
    )
    iso = f"try_cast(replace({v}, 'T', ' ') as timestamp)"
    day_first = f"try_strptime({v}, {_list(_DAY_FIRST_FORMATS)})"
    other = f"try_strptime({v}, {_list(_OTHER_FORMATS)})"
    parsed = f"""(case
        when {v} is null then null
        when {serial_value} is not null then {serial}
        when {has_offset} then try_cast(replace({base}, 'T', ' ') as timestamp)
            + to_minutes(cast(7 * 60 - {offset_minutes} as bigint))
        when contains({v}, '/') then {day_first}
        else coalesce({iso}, {other}) end)"""
    if deadline:
        date_only = f"(not contains({v}, ':') and not ({serial_value} is not null and contains({v}, '.')))"
        parsed = f"(case when {date_only} then {parsed} + interval '23:59:59' else {parsed} end)"
    return parsed


# Common shapes of a timestamp cell with the branch of `_parse_timestamp` that a cell of that shape always
# takes, and whether the shape is date-only (a deadline then means the end of that day). Every shape holds a
# '-' or '/' between digits and an ISO shape a ':' or a fixed length, so a cell of the shape is never an Excel
# serial; the guard rules out 'Z', '+' (and for day-first shapes '-'), so it has no UTC offset either.
_ISO = "try_cast({v} as timestamp)"
_ISO_T = "try_cast(replace({v}, 'T', ' ') as timestamp)"
_DAY_FIRST = "try_strptime({v}, " + _list(_DAY_FIRST_FORMATS) + ")"
_SHAPES: tuple[tuple[str, str, str, bool], ...] = (
    # (LIKE pattern, characters the cell must not contain, branch, date only)
    ("____-__-__ __:__:__", "TZ+/", _ISO, False),
    ("____-__-__ __:__", "TZ+/", _ISO, False),
    ("____-__-__", "TZ+/", _ISO, True),
    ("____-__-__T__:__:__", "Z+/", _ISO_T, False),
    ("__/__/____ __:__:__", "Z+-", _DAY_FIRST, False),
    ("__/__/____ __:__", "Z+-", _DAY_FIRST, False),
    ("__/__/____", "Z+-", _DAY_FIRST, True),
)


def _fast_timestamp(v: str, deadline: bool) -> str:
    """`_parse_timestamp` with the common shapes tried first.

    A cell of one of `_SHAPES` is parsed by the one branch the full chain would take for it, so where a fast
    branch yields a value it is the chain's value; `coalesce` evaluates the chain only for the cells every fast
    branch left NULL (other shapes, serials, offsets, unparseable text), which keeps the chain's several
    casts, LIKE tests and regular expressions off the bulk of a large file.
    """
    fast = []
    for pattern, banned, branch, date_only in _SHAPES:
        guard = " and ".join([f"{v} like {_q(pattern)}", *(f"not contains({v}, {_q(ch)})" for ch in banned)])
        value = branch.format(v=v)
        if deadline and date_only:
            value = f"{value} + interval '23:59:59'"
        fast.append(f"case when {guard} then {value} end")
    # An empty cell is NULL whichever way it is read: settle it before trying the shapes one by one.
    return f"case when {v} is not null then coalesce({', '.join(fast)}, {_parse_timestamp(v, deadline)}) end"


def _clean(cell: str) -> str:
    """`nullif(trim(cell), '')`, skipping the trim where it cannot change the cell.

    `trim` strips spaces and the other Unicode space separators, which all lie outside ASCII: a cell of
    ASCII only (as many bytes as characters) that neither starts nor ends with a space is already trimmed,
    and is kept as it is instead of being copied.
    """
    return (
        f"case when {cell} = '' then null "
        f"when strlen({cell}) = length({cell}) and not ({cell} like ' %' or {cell} like '% ') then {cell} "
        f"else nullif(trim({cell}), '') end"
    )


def _parse(col: Column, v: str, number_to_clean: str | None = None) -> str:
    """SQL for the typed value of `col` from the cleaned text `v` (NULL when empty or unparseable);
    `number_to_clean`: for a number column, the column holding `_number_to_clean(v)`."""
    if col.type == "text":
        if col.fixed_width:
            w = col.fixed_width
            # Excel drops one leading zero of a commune code (07900 -> 7900); shorter codes (a province's
            # two digits) are official codes of their own and are left alone.
            return f"case when regexp_full_match({v}, '\\d{{{w - 1}}}') then '0' || {v} else {v} end"
        return v
    if col.type == "enum":
        lookup = _map(sorted(col.enum_lookup().items()))
        # The cheap lower-casing settles nearly every cell; full normalisation only for the rest. A map
        # names the cell once, where `case <cell> when ...` would repeat it for every spelling.
        return f"coalesce(map_extract_value({lookup}, lower({v})), map_extract_value({lookup}, {_norm(v)}))"
    if col.type == "bool":
        empty = "null" if col.required or col.empty_means is None else str(col.empty_means).lower()
        spellings = _map([(t, "true") for t in TRUE_SPELLINGS] + [(f, "false") for f in FALSE_SPELLINGS], quote=False)
        # The spellings are lower case, so a cell spelled exactly as one of them reads the same either way;
        # the exact match settles nearly every cell before any lower-casing or normalisation.
        return (
            f"coalesce(map_extract_value({spellings}, {v}), case when {v} is null then {empty} else coalesce("
            f"map_extract_value({spellings}, lower({v})), map_extract_value({spellings}, {_norm(v)})) end)"
        )
    if col.type in ("integer", "numeric"):
        num = f"coalesce({_plain_number(v)}, {_parse_number(v, number_to_clean)})"
        if col.type == "integer":
            # try_cast: inf, nan and numbers beyond bigint are "not a whole number", not a failed load
            return f"case when {num} = floor({num}) then try_cast({num} as bigint) end"
        return num
    if col.type == "date":
        return f"cast({_fast_timestamp(v, False)} as date)"
    if col.type == "timestamp":
        return _fast_timestamp(v, col.deadline)
    raise ValueError(f"unknown column type {col.type!r}")


def _problem(col: str, code: str, cond: str, message: str) -> str:
    """A `{column_name, reason_code, reason}` struct when `cond` holds, else NULL."""
    return f"case when {cond} then {{'column_name': {_q(col)}, 'reason_code': {_q(code)}, 'reason': {message}}} end"


def _msg(prefix: str, col: str, raw: str | None, text: str) -> str:
    """`<file> row <n>, column <col>: '<raw>' <text>` as SQL."""
    head = f"{_q(prefix + ' row ')} || _row_number || {_q(', column ' + col + ': ')}"
    if raw is None:
        return f"{head} || {_q(text)}"
    return f"{head} || '''' || {raw} || ''' ' || {_q(text)}"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _column_problems(
    col: Column,
    contract: FeedContract,
    source: str,
    loaded_at: datetime,
    refs: dict[str, ReferenceSet],
    raw_cell: str | None = None,
) -> list[str]:
    """`raw_cell`: the staged cell of the column (NULL where the line ended before it)."""
    v, p = f"v_{col.name}", f"p_{col.name}"
    out = []
    if col.required:
        # An empty cell of a malformed row past its end is that row's problem, already reported.
        missing = f"{v} is null"
        if raw_cell is not None:
            missing += f" and not (_problem is not null and {raw_cell} is null)"
        out.append(
            _problem(col.name, "missing_required", missing, _msg(source, col.name, None, "is empty (required)"))
        )
    unparsed = f"{v} is not null and {p} is null"
    if col.type in ("date", "timestamp"):
        out.append(
            _problem(col.name, "invalid_date", unparsed, _msg(source, col.name, v, f"is not a date ({DATE_EXPECTED})"))
        )
    elif col.type in ("integer", "numeric"):
        kind = "a whole number" if col.type == "integer" else "a number"
        out.append(
            _problem(
                col.name,
                "not_a_number",
                unparsed,
                _msg(source, col.name, v, f"is not {kind} (expected e.g. 12 or 12,5)"),
            )
        )
    elif col.type == "bool":
        out.append(
            _problem(
                col.name,
                "invalid_boolean",
                unparsed,
                _msg(source, col.name, v, "is not a yes/no value (expected true/false, 1/0, x, có/không, Y/N)"),
            )
        )
    elif col.type == "enum":
        allowed = ", ".join(f"{k} ({'/'.join(ls)})" if ls else k for k, ls in col.enum.items())
        out.append(_problem(col.name, "unknown_enum", unparsed, _msg(source, col.name, v, f"is not one of {allowed}")))
    if col.minimum is not None:
        lo = col.minimum
        bad = f"{p} <= {lo}" if col.exclusive_minimum else f"{p} < {lo}"
        expected = f"expected {'>' if col.exclusive_minimum else '>='} {_number_text(lo)}"
        code = f"case when {lo} = 0 and {p} < 0 then 'negative_number' else 'out_of_range' end"
        out.append(
            f"case when {bad} then {{'column_name': {_q(col.name)}, 'reason_code': {code}, "
            f"'reason': {_msg(source, col.name, v, f'is out of range ({expected})')}}} end"
        )
    if col.allowed_values:
        values = ", ".join(_number_text(a) for a in col.allowed_values)
        out.append(
            _problem(
                col.name,
                "out_of_range",
                f"{p} not in ({values})",
                _msg(source, col.name, v, f"is not an allowed value (expected one of {values})"),
            )
        )
    if col.type in ("date", "timestamp"):
        if col.not_in_future:
            now = f"timestamp '{loaded_at:%Y-%m-%d %H:%M:%S}'"
            cmp = f"{p} > cast({now} as date)" if col.type == "date" else f"{p} > {now}"
            out.append(
                _problem(
                    col.name,
                    "future_date",
                    cmp,
                    _msg(source, col.name, v, f"is in the future (loaded at {loaded_at:%Y-%m-%d %H:%M})"),
                )
            )
        if col.min_date is not None:
            out.append(
                _problem(
                    col.name,
                    "before_2000" if col.min_date.isoformat() == "2000-01-01" else "out_of_range",
                    f"{p} < date '{col.min_date.isoformat()}'",
                    _msg(source, col.name, v, f"is before {col.min_date.isoformat()}"),
                )
            )
    if col.not_before is not None:
        nb = col.not_before
        op = "<=" if nb.strict else "<"
        other = f"p_{nb.column}"
        word = "not after" if nb.strict else "before"
        quote = "''''"
        message = _msg(source, col.name, v, f"is {word} {nb.column} ") + f" || {quote} || v_{nb.column} || {quote}"
        out.append(_problem(col.name, nb.reason_code, f"{p} {op} {other}", message))
    if col.period_start_of is not None:
        kind = f"p_{col.period_start_of}"
        bad = f"(day({p}) <> 1 or ({kind} = 'quarter' and month({p}) not in (1, 4, 7, 10)))"
        out.append(
            _problem(
                col.name,
                "invalid_period_start",
                bad,
                _msg(source, col.name, v, "is not the first day of a month or quarter"),
            )
        )
    ref = refs.get(col.name)
    if ref is not None and col.reference is not None:
        relation = ref.table or f"(select distinct p_{col.reference.column} as code from parsed)"
        out.append(
            _problem(
                col.name,
                col.reference.reason_code,
                f"{p} is not null and {p} not in (select code from {relation})",
                _msg(source, col.name, v, f"is not a known {col.reference.feed}.{col.reference.column}"),
            )
        )
    return out


def build_check_sql(
    contract: FeedContract,
    mapping: dict[str, str],
    source_file: str,
    loaded_at: datetime,
    refs: dict[str, ReferenceSet],
    original_keys: list[str],
    raw_line: bool = False,
) -> str:
    """The query that creates `_ingest_checked` from `_ingest_stage`; `_original` (the row as delivered,
    JSON keyed by `original_keys`) is kept for quarantined rows only; `raw_line`: the stage has `_line`, the
    line as delivered where it could not be read into cells (a broken JSON line), kept verbatim instead.

    The staged rows are held once in memory (`materialized`): numbering a file's lines keeps its read in one
    thread, and ending that pipeline there lets the parsing and checking run on every thread. A repeated key
    is found by grouping the key columns alone, parsed a second time from the staged cells; only the keys
    seen more than once are joined back, so the wide rows are never partitioned or sorted.
    """
    cleaned_by_column = {
        col.name: f"{'cast(null as varchar)' if col.name not in mapping else _clean(mapping[col.name])} as v_{col.name}"
        for col in contract.columns
    }
    cleaned = list(cleaned_by_column.values())
    key_cleaned = [cleaned_by_column[k] for k in contract.primary_key]
    numbers = [c.name for c in contract.columns if c.name in mapping and c.type in ("integer", "numeric")]
    prepared = [f"{_number_to_clean(f'v_{name}')} as n_{name}" for name in numbers]

    def typed(col: Column, number_to_clean: str | None) -> str:
        # A column the file does not have is unknown (NULL), even where an empty cell would mean false.
        if col.name not in mapping:
            return f"cast(null as {col.duckdb_type}) as p_{col.name}"
        return f"{_parse(col, f'v_{col.name}', number_to_clean)} as p_{col.name}"

    parsed = [typed(col, f"n_{col.name}" if col.name in numbers else None) for col in contract.columns]
    key_parsed = [typed(col, None) for col in contract.columns if col.name in contract.primary_key]
    staged = [f"s{i}" for i in range(len(original_keys))]
    keys = [f"p_{k}" for k in contract.primary_key]
    key_text = " || ', ' || ".join(f"coalesce(v_{k}, '')" for k in contract.primary_key)
    problems = [
        f"case when _problem is not null then {{'column_name': cast(null as varchar), 'reason_code': _problem, "
        f"'reason': "
        f"{_q(source_file + ' row ')} || _row_number || ': ' || case _problem "
        f"when 'truncated_row' then 'the line ends before the last column (truncated)' "
        f"when 'too_many_fields' then 'more fields than the header has columns' "
        f"else 'not a valid JSON object' end}} end"
    ]
    for col in contract.columns:
        problems += _column_problems(col, contract, source_file, loaded_at, refs, mapping.get(col.name))
    key_name = ", ".join(contract.primary_key)
    problems.append(
        _problem(
            key_name,
            "duplicate_id",
            "_key_count > 1",
            f"{_q(source_file + ' row ')} || _row_number || {_q(', column ' + key_name + ': ')} || '''' || "
            f"{key_text} || ''' appears ' || _key_count || ' times in the file (every occurrence quarantined)'",
        )
    )
    pairs = ", ".join(f"{_q(k)}, s{i}" for i, k in enumerate(original_keys))
    original = f"cast(json_object({pairs}) as varchar)" if original_keys else "'{}'"
    if raw_line:
        original = f"coalesce(_line, {original})"
    # Each rule is a column of its own, NULL where the row passes it; the list is built only for the rows
    # where some rule found a problem, not for every row of the file.
    found = [f"_problem_{i}" for i in range(len(problems))]
    nl = ",\n        "
    return f"""
create or replace temp table {CHECKED_TABLE} as
with stage as materialized (
    select * from {STAGE_TABLE}
),
key_cleaned as (
    select {nl.join(key_cleaned)}
    from stage
),
key_parsed as (
    select {nl.join(key_parsed)}
    from key_cleaned
),
repeated_keys as (
    select {", ".join(keys)}, count(*) as _key_count
    from key_parsed
    where {" and ".join(f"{k} is not null" for k in keys)}
    group by {", ".join(keys)}
    having count(*) > 1
),
cleaned as (
    select _row_number, _problem,{" _line," if raw_line else ""}
        {nl.join([*staged, *cleaned])}
    from stage
),
prepared as (
    select *{"," if prepared else ""}
        {nl.join(prepared)}
    from cleaned
),
parsed as (
    select *,
        {nl.join(parsed)}
    from prepared
),
keyed as (
    select parsed.*, repeated_keys._key_count
    from parsed
    left join repeated_keys on {" and ".join(f"parsed.{k} = repeated_keys.{k}" for k in keys)}
),
checked as (
    select _row_number,{" _line," if raw_line else ""}
        {nl.join([*(f"p_{c.name}" for c in contract.columns), *staged])},
        {nl.join(f"{expr} as _problem_{i}" for i, expr in enumerate(problems))}
    from keyed
),
listed as (
    select *,
        case when coalesce({", ".join(found)}) is not null
             then list_filter([{", ".join(found)}], x -> x is not null)
             else cast([] as {PROBLEM_TYPE}[]) end as _problems
    from checked
),
final as (
    select _row_number,
        {nl.join(f"p_{c.name}" for c in contract.columns)},
        _problems,
        case when len(_problems) > 0 then {original} end as _original
    from listed
)
select * from final
"""
