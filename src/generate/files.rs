//! The 15 canonical files of a data directory and their headers.

use anyhow::Result;
use std::path::Path;

use super::write::CsvOut;

pub const HOUSEHOLDS: &str =
    "户编号,县,乡镇,村,户主姓名,户主证件号码,户类型,监测状态,工资性收入,生产经营性收入,财产性收入,转移性收入,生产经营性支出,上年度家庭纯收入";
pub const MEMBERS: &str = "户编号,姓名,证件号码,与户主关系,性别,出生日期,健康状况,劳动技能,是否共同生活";
pub const MEDICAL: &str = "证件号码,姓名,就诊日期,医疗总费用,报销金额,个人自付,病种,是否大病";
pub const EDUCATION: &str = "证件号码,姓名,学段,学年,缴费日期,自付费用";
pub const VEHICLES: &str = "证件号码,姓名,号牌号码,车辆类型,登记日期,状态";
pub const ACCIDENTS: &str = "证件号码,姓名,事故日期,伤情";
pub const REAL_ESTATE: &str = "证件号码,姓名,不动产类型,登记日期";
pub const COMPANIES: &str = "证件号码,姓名,企业名称,身份,状态";
pub const PUBLIC_EMPLOYEES: &str = "证件号码,姓名,单位,类别";
pub const DISABILITY: &str = "证件号码,姓名,残疾类别,残疾等级";
pub const HOUSING: &str = "证件号码,姓名,鉴定等级,鉴定日期";
pub const DISASTERS: &str = "证件号码,姓名,灾害类型,损失情况,发生日期";
pub const EMPLOYMENT: &str = "证件号码,姓名,返乡日期,返乡未就业天数";
pub const BLACKLIST: &str = "证件号码,姓名,失信类型,立案日期";
pub const AGRICULTURE: &str = "证件号码,姓名,项目名称,情况,发生日期";

pub struct Files {
    pub households: CsvOut,
    pub members: CsvOut,
    pub medical: CsvOut,
    pub education: CsvOut,
    pub vehicles: CsvOut,
    pub accidents: CsvOut,
    pub real_estate: CsvOut,
    pub companies: CsvOut,
    pub public_employees: CsvOut,
    pub disability: CsvOut,
    pub housing: CsvOut,
    pub disasters: CsvOut,
    pub employment: CsvOut,
    pub blacklist: CsvOut,
    pub agriculture: CsvOut,
}

impl Files {
    /// Clean files are UTF-8, LF, no BOM. `messy` gives households.csv a BOM, members.csv
    /// CRLF line ends, and every file the noise of real exports (`write::Noise`).
    pub fn create(dir: &Path, messy: bool) -> Result<Files> {
        let f = |name, header| CsvOut::create(dir, name, header, false, false, messy);
        Ok(Files {
            households: CsvOut::create(dir, "households.csv", HOUSEHOLDS, messy, false, messy)?,
            members: CsvOut::create(dir, "members.csv", MEMBERS, false, messy, messy)?,
            medical: f("medical.csv", MEDICAL)?,
            education: f("education.csv", EDUCATION)?,
            vehicles: f("vehicles.csv", VEHICLES)?,
            accidents: f("accidents.csv", ACCIDENTS)?,
            real_estate: f("real_estate.csv", REAL_ESTATE)?,
            companies: f("companies.csv", COMPANIES)?,
            public_employees: f("public_employees.csv", PUBLIC_EMPLOYEES)?,
            disability: f("disability.csv", DISABILITY)?,
            housing: f("housing.csv", HOUSING)?,
            disasters: f("disasters.csv", DISASTERS)?,
            employment: f("employment.csv", EMPLOYMENT)?,
            blacklist: f("blacklist.csv", BLACKLIST)?,
            agriculture: f("agriculture.csv", AGRICULTURE)?,
        })
    }

    /// Flushes every file; (file name, data rows) in the canonical order.
    pub fn finish(self) -> Result<Vec<(String, u64)>> {
        [
            self.households,
            self.members,
            self.medical,
            self.education,
            self.vehicles,
            self.accidents,
            self.real_estate,
            self.companies,
            self.public_employees,
            self.disability,
            self.housing,
            self.disasters,
            self.employment,
            self.blacklist,
            self.agriculture,
        ]
        .into_iter()
        .map(CsvOut::finish)
        .collect()
    }
}
