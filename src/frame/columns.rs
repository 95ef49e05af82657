//! The output tables' column names, in one place: flagged.csv and screened.csv, in the order
//! they are written. The roster must declare the household columns these tables show.

pub const TOWN: &str = "乡镇";
pub const VILLAGE: &str = "村";
pub const KEY: &str = "户编号";
pub const HEAD: &str = "户主姓名";
pub const HEAD_ID: &str = "户主证件号码";
pub const KIND: &str = "户类型";
pub const STATUS: &str = "监测状态";
pub const SIZE: &str = "家庭人口";
pub const NET_INCOME: &str = "家庭纯收入";
pub const PER_CAPITA: &str = "人均纯收入";
pub const LINE: &str = "监测线";
pub const CATEGORY: &str = "类别";
pub const RISKS: &str = "风险类型";
pub const ADVICE: &str = "建议";
pub const EXCLUSIONS: &str = "排除提示";
pub const TRIGGERS: &str = "触发规则";
pub const EVIDENCE: &str = "证据";

/// flagged.csv (and new_leads.csv), in order.
pub const FLAGGED: [&str; 17] =
    [TOWN, VILLAGE, KEY, HEAD, HEAD_ID, KIND, STATUS, SIZE, NET_INCOME, PER_CAPITA, LINE, CATEGORY, RISKS, ADVICE, EXCLUSIONS, TRIGGERS, EVIDENCE];

/// screened.csv, in order.
pub const SCREENED: [&str; 13] = [TOWN, VILLAGE, KEY, HEAD, KIND, STATUS, SIZE, NET_INCOME, PER_CAPITA, LINE, CATEGORY, TRIGGERS, EXCLUSIONS];

/// The household columns the roster must declare: the tables above show them.
pub const FROM_ROSTER: [&str; 6] = [TOWN, VILLAGE, HEAD, HEAD_ID, KIND, STATUS];

/// The order both tables are sorted in.
pub const ORDER: [&str; 3] = [TOWN, VILLAGE, KEY];
