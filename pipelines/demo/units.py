"""The unit reference list of Phú Thọ as it is since 1 July 2025.

Communes and wards are the real 148 units of the `vietnam-provinces` package (province code 25);
provincial bodies are the post-2025 set of departments plus the provincial service centre.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from vietnam_provinces import ProvinceCode, VietNamDivisionType, Ward

from pipelines.demo._common import rng_for

UNITS_VALID_FROM = date(2025, 7, 1)
PROVINCE_CODE = "PT"
SERVICE_CENTRE_CODE = "PT.TTPVHCC"
OFFICE_CODE = "PT.VPUBND"

# (unit_code, name, domain key used for procedure and task names)
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("PT.SNV", "Sở Nội vụ", "noi_vu"),
    ("PT.STC", "Sở Tài chính", "tai_chinh"),
    ("PT.SXD", "Sở Xây dựng", "xay_dung"),
    ("PT.SNNMT", "Sở Nông nghiệp và Môi trường", "nong_nghiep"),
    ("PT.SCT", "Sở Công Thương", "cong_thuong"),
    ("PT.SGDDT", "Sở Giáo dục và Đào tạo", "giao_duc"),
    ("PT.SYT", "Sở Y tế", "y_te"),
    ("PT.SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "van_hoa"),
    ("PT.SKHCN", "Sở Khoa học và Công nghệ", "khoa_hoc"),
    ("PT.STP", "Sở Tư pháp", "tu_phap"),
    ("PT.SDTTG", "Sở Dân tộc và Tôn giáo", "dan_toc"),
    ("PT.SNGV", "Sở Ngoại vụ", "ngoai_vu"),
    ("PT.TTT", "Thanh tra tỉnh", "thanh_tra"),
    (OFFICE_CODE, "Văn phòng UBND tỉnh", "van_phong"),
    ("PT.BQLKCN", "Ban Quản lý các khu công nghiệp tỉnh", "khu_cong_nghiep"),
)

UNIT_COLUMNS = [
    "unit_code",
    "unit_name",
    "unit_kind",
    "peer_group",
    "parent_unit_code",
    "population",
    "valid_from",
    "valid_to",
]


def _communes() -> list[tuple[str, str, str]]:
    """(unit_code, name, kind) of the 148 communes and wards, in the package's order."""
    out = []
    for ward in Ward.iter_by_province(ProvinceCode.P_25):
        kind = "ward" if ward.division_type == VietNamDivisionType.PHUONG else "commune"
        out.append((f"{int(ward.code):05d}", ward.name, kind))
    return out


def phu_tho_units(seed: int = 20260101) -> pl.DataFrame:
    """The unit reference list: province, 15 departments, the service centre and 148 communes/wards.

    Columns are the canonical `units` columns plus `domain` (the department's field, used by the
    generator for names; not part of the feed). Populations are drawn from the seed: wards are larger.
    """
    rng = rng_for(seed, "units")
    communes = _communes()
    is_ward = np.array([kind == "ward" for _, _, kind in communes])
    # Log-normal populations: communes around 20,000, wards around 45,000, bounded as the brief says.
    pop = np.where(
        is_ward,
        np.exp(rng.normal(np.log(45_000), 0.35, len(communes))),
        np.exp(rng.normal(np.log(19_000), 0.5, len(communes))),
    )
    pop = np.clip(pop, np.where(is_ward, 15_000, 3_000), 80_000).round(-1).astype(np.int64)

    rows: list[dict[str, object]] = [
        {
            "unit_code": PROVINCE_CODE,
            "unit_name": "Tỉnh Phú Thọ",
            "unit_kind": "province",
            "peer_group": "province",
            "parent_unit_code": None,
            "population": int(pop.sum()),
            "domain": "tinh",
        }
    ]
    for code, name, domain in DEPARTMENTS:
        rows.append(
            {
                "unit_code": code,
                "unit_name": name,
                "unit_kind": "department",
                "peer_group": "provincial_agencies",
                "parent_unit_code": PROVINCE_CODE,
                "population": None,
                "domain": domain,
            }
        )
    rows.append(
        {
            "unit_code": SERVICE_CENTRE_CODE,
            "unit_name": "Trung tâm Phục vụ hành chính công tỉnh Phú Thọ",
            "unit_kind": "service_centre",
            "peer_group": "provincial_agencies",
            # The provincial centre sits under the Office of the provincial People's Committee.
            "parent_unit_code": OFFICE_CODE,
            "population": None,
            "domain": "trung_tam",
        }
    )
    for (code, name, kind), people in zip(communes, pop, strict=True):
        rows.append(
            {
                "unit_code": code,
                "unit_name": name,
                "unit_kind": kind,
                "peer_group": "communes",
                "parent_unit_code": PROVINCE_CODE,
                "population": int(people),
                "domain": "xa",
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "unit_code": pl.String,
            "unit_name": pl.String,
            "unit_kind": pl.String,
            "peer_group": pl.String,
            "parent_unit_code": pl.String,
            "population": pl.Int64,
            "domain": pl.String,
        },
    )
    return frame.with_columns(valid_from=pl.lit(UNITS_VALID_FROM), valid_to=pl.lit(None, dtype=pl.Date)).select(
        [*UNIT_COLUMNS, "domain"]
    )
