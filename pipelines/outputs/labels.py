"""Vietnamese headers, value labels and number formats of the published tables.

The codes stay in the warehouse (`communes`, `ward`, `G4a`); people read the labels. A column or value the
maps below do not know falls back to the contract's `businessName`, then to the code itself, so a new
contract column never breaks an export.
"""

from __future__ import annotations

from typing import Any

#: Decision 766 groups in display order: code -> (Vietnamese name, maximum points). G4 = G4a + G4b (spec §3.2).
GROUPS_766: dict[str, tuple[str, float]] = {
    "G1": ("Công khai, minh bạch", 18.0),
    "G2": ("Tiến độ, kết quả giải quyết", 20.0),
    "G3": ("Số hóa hồ sơ", 22.0),
    "G4": ("Cung cấp dịch vụ trực tuyến", 22.0),
    "G4a": ("Dịch vụ công trực tuyến", 12.0),
    "G4b": ("Thanh toán trực tuyến", 10.0),
    "G5": ("Mức độ hài lòng", 18.0),
}

UNIT_KINDS = {
    "province": "Tỉnh",
    "department": "Sở, ban, ngành",
    "service_centre": "Trung tâm phục vụ hành chính công",
    "commune": "Xã",
    "ward": "Phường",
    "other": "Khác",
}

PEER_GROUPS = {
    "communes": "Xã, phường",
    "provincial_agencies": "Sở, ban, ngành và Trung tâm PVHCC tỉnh",
    "province": "Tỉnh",
}

SCORING_METHODS = {
    "linear": "Tuyến tính",
    "capped_linear_to_target": "Tuyến tính đến chỉ tiêu",
    "threshold": "Ngưỡng",
    "monitor_only": "Chỉ theo dõi",
}

LEVELS_335 = {
    "XS": "Hoàn thành xuất sắc nhiệm vụ",
    "T": "Hoàn thành tốt nhiệm vụ",
    "HT": "Hoàn thành nhiệm vụ",
    "KHT": "Không hoàn thành nhiệm vụ",
}

PERIOD_TYPES = {"quarter": "Quý", "month": "Tháng", "year": "Năm", "half_year": "6 tháng", "nine_months": "9 tháng"}

RATING_STATUSES = {"year_to_date": "Lũy kế đến ngày tính", "year_end": "Đánh giá cuối năm", "final": "Chính thức"}

#: column -> value labels applied on export
VALUE_LABELS: dict[str, dict[str, str]] = {
    "unit_kind": UNIT_KINDS,
    "peer_group": PEER_GROUPS,
    "scoring_method": SCORING_METHODS,
    "level": LEVELS_335,
    "period_type": PERIOD_TYPES,
    "rating_status": RATING_STATUSES,
}

HEADERS: dict[str, str] = {
    "period_label": "Kỳ đánh giá",
    "period_type": "Loại kỳ",
    "year": "Năm đánh giá",
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "unit_kind": "Loại đơn vị",
    "peer_group": "Nhóm so sánh",
    "g1_points": "G1 Công khai, minh bạch",
    "g2_points": "G2 Tiến độ, kết quả giải quyết",
    "g3_points": "G3 Số hóa hồ sơ",
    "g4_points": "G4 Cung cấp dịch vụ trực tuyến",
    "g4a_points": "G4a Dịch vụ công trực tuyến",
    "g4b_points": "G4b Thanh toán trực tuyến",
    "g5_points": "G5 Mức độ hài lòng",
    "total_points": "Tổng điểm",
    "total_points_display": "Tổng điểm (làm tròn)",
    "rank_in_peer_group": "Xếp hạng",
    "peer_group_size": "Số đơn vị trong nhóm",
    "previous_rank": "Xếp hạng quý trước",
    "rank_change": "Thay đổi thứ hạng",
    "previous_total_points": "Tổng điểm quý trước",
    "rule_version": "Phiên bản quy tắc",
    "indicator_id": "Mã chỉ số",
    "indicator_name_vi": "Tên chỉ số",
    "group_code": "Nhóm",
    "group5_code": "Nhóm (QĐ 766)",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "ratio_pct": "Tỷ lệ",
    "ratio_kind": "Loại tỷ lệ (percent: %, average: số ngày, count: số lượng)",
    "target_pct": "Chỉ tiêu",
    "max_points": "Điểm tối đa",
    "points": "Điểm",
    "scoring_method": "Cách tính điểm",
    "is_applicable": "Áp dụng",
    "is_denominator_zero": "Mẫu số bằng 0",
    "task_group": "Nhóm nhiệm vụ tương đồng",
    "xs_count": "Hoàn thành xuất sắc",
    "tot_count": "Hoàn thành tốt",
    "ht_count": "Hoàn thành",
    "kht_count": "Không hoàn thành",
    "not_rated_count": "Chưa xếp loại",
    "total_count": "Tổng số công chức",
    "n90": "Ứng viên xuất sắc (≥ 90 điểm)",
    "t0": "Hoàn thành tốt trước hạn mức",
    "x_max_reading1": "Hạn mức xuất sắc (cách hiểu 1)",
    "x_max_reading2": "Hạn mức xuất sắc (cách hiểu 2)",
    "xs_final": "Xuất sắc sau hạn mức",
    "demoted": "Chuyển xuống hoàn thành tốt",
    "review_flag": "Cần cấp có thẩm quyền xem xét",
    "g_points": "Điểm tiêu chí chung",
    "part2_points": "Điểm kết quả nhiệm vụ",
    "s_points": "Tổng điểm",
    "level": "Mức xếp loại",
    "uses_766": "Có dùng kết quả Chỉ số 766",
    "rule_set": "Bộ quy tắc",
    "publication_version": "Phiên bản công bố",
    "is_partial": "Tạm tính (kỳ chưa kết thúc)",
    "as_of": "Tính đến ngày",
    "rating_status": "Tình trạng kết quả năm",
    "rated_count": "Số được xếp loại",
    "is_suppressed": "Ẩn số nhỏ (bảo vệ dữ liệu cá nhân)",
    "suppression_reason": "Lý do ẩn",
}

SHEET_NAMES: dict[str, str] = {
    "unit_service_index": "Chỉ số 766 đơn vị",
    "service_indicator_points": "Điểm chỉ số thành phần",
    "civil_service_level_distribution": "Phân loại công chức",
    "civil_service_quota_usage": "Hạn mức xuất sắc 20%",
    "agency_ratings": "Xếp loại cơ quan",
}

TABLE_TITLES: dict[str, str] = {
    "unit_service_index": "Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg) theo đơn vị",
    "service_indicator_points": "Điểm từng chỉ số thành phần (QĐ 766/QĐ-TTg)",
    "civil_service_level_distribution": "Kết quả xếp loại công chức theo đơn vị (NĐ 335/2025/NĐ-CP)",
    "civil_service_quota_usage": "Sử dụng hạn mức 20% hoàn thành xuất sắc (NĐ 335/2025/NĐ-CP)",
    "agency_ratings": "Xếp loại cơ quan, đơn vị (NĐ 335/2025/NĐ-CP)",
}

RATIO_COLUMNS = frozenset({"ratio_pct", "target_pct"})
TEXT_ONLY_COLUMNS = frozenset({"unit_code", "indicator_id", "period_label", "task_group"})

_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def header(column: str, business_name: str | None = None) -> str:
    """Vietnamese header of a column."""
    return HEADERS.get(column) or business_name or column


def value_label(column: str, value: Any) -> Any:
    """The Vietnamese label of a coded value (booleans become Có/Không); other values unchanged."""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    labels = VALUE_LABELS.get(column)
    if labels is not None and isinstance(value, str):
        return labels.get(value, value)
    return value


def sheet_name(table: str) -> str:
    """An Excel-safe sheet name (31 characters at most, none of []:*?/\\)."""
    return SHEET_NAMES.get(table, table).translate(_BAD_SHEET_CHARS)[:31]


def number_kind(column: str, logical_type: str | None) -> str | None:
    """'ratio', 'points', 'integer' or None (text) for a column, from its name and contract type."""
    if column in TEXT_ONLY_COLUMNS:
        return None
    if column in RATIO_COLUMNS:
        return "ratio"
    if logical_type == "integer" or column in {"year", "publication_version"}:
        return "integer"
    if logical_type == "number":
        return "points"
    return None


def group_label(code: str) -> str:
    """'G1 Công khai, minh bạch'."""
    name, _max = GROUPS_766.get(code, (code, 0.0))
    return f"{code} {name}"
