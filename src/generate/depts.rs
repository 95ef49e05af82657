//! Department extracts: one writer per file taking explicit values (used by the
//! planted households), and random generators at realistic rates.

use anyhow::Result;

use super::dates::{days, DETERMINATION, WINDOW_END, WINDOW_START};
use super::files::Files;
use super::ids::{IdAlloc, DIVISION_CODES};
use super::names::{Name, SURNAMES};
use super::people::{self, Member, Sketch, DISABLED, SERIOUS};
use super::rng::Rng;
use super::write::CsvOut;

/// Where a household lives: used in company and employer names, plates.
pub struct Place<'a> {
    pub county: &'a str,
    pub town: &'a str,
    pub village: &'a str,
    pub plate: &'static str,
}

/// Who a department row names: the ID field exactly as written, and the name.
pub struct Who<'a> {
    pub id: &'a [u8],
    pub name: Name,
}

impl<'a> Who<'a> {
    pub fn of(m: &'a Member) -> Who<'a> {
        Who { id: &m.id, name: m.name }
    }
}

fn head(out: &mut CsvOut, w: &Who) {
    out.id(w.id).concat(&w.name.parts());
}

fn yes(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

// ---- row writers with explicit values -------------------------------------

/// 医疗总费用 = 报销金额 + 个人自付.
pub fn medical(out: &mut CsvOut, w: &Who, date: i32, reimbursed: i64, self_pay: i64, disease: &str, major: bool) -> Result<()> {
    head(out, w);
    out.date(date).money(reimbursed + self_pay).money(reimbursed).money(self_pay).text(disease).text(yes(major));
    out.end()
}

pub fn education(out: &mut CsvOut, w: &Who, stage: &str, year: &str, date: i32, fee: i64) -> Result<()> {
    head(out, w);
    out.text(stage).text(year).date(date).money(fee);
    out.end()
}

pub fn vehicle(out: &mut CsvOut, w: &Who, plate: &str, plate_no: &[u8; 5], kind: &str, date: i32, status: &str) -> Result<()> {
    head(out, w);
    out.concat(&[plate, std::str::from_utf8(plate_no).unwrap_or("A0000")]).text(kind).date(date).text(status);
    out.end()
}

pub fn accident(out: &mut CsvOut, w: &Who, date: i32, injury: &str) -> Result<()> {
    head(out, w);
    out.date(date).text(injury);
    out.end()
}

pub fn real_estate(out: &mut CsvOut, w: &Who, kind: &str, date: i32) -> Result<()> {
    head(out, w);
    out.text(kind).date(date);
    out.end()
}

pub fn company(out: &mut CsvOut, w: &Who, name: &[&str], role: &str, status: &str) -> Result<()> {
    head(out, w);
    out.concat(name).text(role).text(status);
    out.end()
}

pub fn public_employee(out: &mut CsvOut, w: &Who, unit: &[&str], category: &str) -> Result<()> {
    head(out, w);
    out.concat(unit).text(category);
    out.end()
}

pub fn disability(out: &mut CsvOut, w: &Who, kind: &str, grade: &str) -> Result<()> {
    head(out, w);
    out.text(kind).text(grade);
    out.end()
}

pub fn housing(out: &mut CsvOut, w: &Who, grade: &str, date: i32) -> Result<()> {
    head(out, w);
    out.text(grade).date(date);
    out.end()
}

pub fn disaster(out: &mut CsvOut, w: &Who, kind: &str, loss: &str, date: i32) -> Result<()> {
    head(out, w);
    out.text(kind).text(loss).date(date);
    out.end()
}

pub fn employment(out: &mut CsvOut, w: &Who, back: i32, idle_days: u64) -> Result<()> {
    head(out, w);
    out.date(back).int(idle_days);
    out.end()
}

pub fn blacklist(out: &mut CsvOut, w: &Who, kind: &str, date: i32) -> Result<()> {
    head(out, w);
    out.text(kind).date(date);
    out.end()
}

pub fn agriculture(out: &mut CsvOut, w: &Who, project: &str, situation: &str, date: i32) -> Result<()> {
    head(out, w);
    out.text(project).text(situation).date(date);
    out.end()
}

// ---- vocabularies -----------------------------------------------------------

pub const DISEASES: [&str; 12] = ["高血压", "糖尿病", "肺炎", "骨折", "阑尾炎", "冠心病", "脑梗死", "慢性阻塞性肺疾病", "白内障", "胃炎", "肾结石", "胆囊炎"];
pub const MAJOR_DISEASES: [&str; 6] = ["恶性肿瘤", "尿毒症", "白血病", "重性精神病", "耐多药肺结核", "儿童先天性心脏病"];
const VEHICLE_KINDS: [(&str, u32); 6] = [("小型轿车", 30), ("小型普通客车", 15), ("轻型货车", 15), ("三轮汽车", 10), ("摩托车", 25), ("拖拉机", 5)];
const ESTATE_KINDS: [(&str, u32); 4] = [("商品房", 35), ("门面房", 10), ("自建房", 35), ("宅基地", 20)];
const INJURIES: [(&str, u32); 3] = [("受伤", 60), ("伤残", 25), ("死亡", 15)];
const ROLES: [(&str, u32); 3] = [("法定代表人", 40), ("股东", 25), ("个体工商户", 35)];
const WORDS: [&str; 16] = ["金谷", "兴旺", "绿源", "丰收", "山泉", "宏达", "富民", "黔香", "苗岭", "鑫源", "众鑫", "惠农", "长青", "福满", "顺达", "瑞丰"];
const PUB_CATS: [(&str, u32); 4] = [("公务员", 25), ("事业单位", 45), ("国有企业", 15), ("村干部", 15)];
pub const DISABILITY_KINDS: [&str; 7] = ["视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾", "多重残疾"];
const DISABILITY_GRADES: [(&str, u32); 4] = [("一级", 10), ("二级", 20), ("三级", 30), ("四级", 40)];
const HOUSING_GRADES: [(&str, u32); 4] = [("A", 30), ("B", 30), ("C", 25), ("D", 15)];
pub const DISASTER_KINDS: [&str; 7] = ["洪涝", "山体滑坡", "风雹", "泥石流", "干旱", "凝冻", "火灾"];
const LOSSES: [(&str, u32); 6] = [("房屋倒塌", 5), ("严重损坏", 10), ("一般损坏", 30), ("死亡", 2), ("失踪", 1), ("农作物受灾", 52)];
pub const BLACKLIST_KINDS: [&str; 4] = ["拒不履行生效法律文书", "违反财产报告制度", "虚假诉讼", "规避执行"];
pub const PROJECTS: [&str; 8] = ["精品水果种植", "生猪养殖", "食用菌种植", "茶叶种植", "肉牛养殖", "蔬菜种植", "中药材种植", "蛋鸡养殖"];
const SITUATIONS: [(&str, u32); 3] = [("绝收", 25), ("项目失败", 25), ("减产", 50)];
const PLATE_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

// ---- random pieces ----------------------------------------------------------

fn day_in(rng: &mut Rng, from: i32, to: i32) -> i32 {
    rng.range(from as i64, to as i64) as i32
}

/// Inside the income window with probability ppm, else within a year around it.
fn window_date(rng: &mut Rng, inside_ppm: u32) -> i32 {
    if rng.chance(inside_ppm) {
        day_in(rng, WINDOW_START, WINDOW_END)
    } else if rng.chance(500_000) {
        day_in(rng, WINDOW_START - 365, WINDOW_START - 1)
    } else {
        day_in(rng, WINDOW_END + 1, WINDOW_END + 153)
    }
}

pub fn plate_no(rng: &mut Rng) -> [u8; 5] {
    let mut p = [0u8; 5];
    p[0] = PLATE_LETTERS[rng.below(24) as usize];
    for d in &mut p[1..] {
        *d = b'0' + rng.below(10) as u8;
    }
    p
}

/// A company name's pieces (some with a comma or quotes, to exercise CSV quoting).
fn company_name<'a>(rng: &mut Rng, place: &Place<'a>, sole_trader: bool, surname: u8) -> Vec<&'a str> {
    let w = *rng.pick(&WORDS);
    let r = rng.below(100);
    if sole_trader {
        match r {
            0..=4 => vec![place.town, "\"", w, "\"小卖部"],
            5..=49 => vec![place.town, SURNAMES[surname as usize], "记餐馆"],
            _ => vec![place.town, w, "农家乐"],
        }
    } else {
        match r {
            0..=7 => vec!["贵州", w, "建材有限公司,", place.county, "分公司"],
            8..=39 => vec![place.town, w, "种养殖农民专业合作社"],
            40..=69 => vec!["贵州", w, "农业发展有限公司"],
            _ => vec![place.county, w, "商贸有限公司"],
        }
    }
}

fn employer<'a>(rng: &mut Rng, place: &Place<'a>, category: &str) -> Vec<&'a str> {
    let r = rng.below(5);
    match category {
        "公务员" => match r {
            0 => vec![place.county, "人民政府办公室"],
            1 => vec![place.county, "财政局"],
            2 => vec![place.county, "农业农村局"],
            3 => vec![place.town, "人民政府"],
            _ => vec![place.county, "公安局"],
        },
        "事业单位" => match r {
            0 => vec![place.county, "人民医院"],
            1 => vec![place.town, "中心小学"],
            2 => vec![place.county, "第一中学"],
            3 => vec![place.town, "卫生院"],
            _ => vec![place.county, "疾病预防控制中心"],
        },
        "国有企业" => match r {
            0 | 1 => vec!["贵州电网有限责任公司", place.county, "供电局"],
            2 => vec!["中国移动通信集团贵州有限公司", place.county, "分公司"],
            3 => vec!["贵州省烟草公司", place.county, "分公司"],
            _ => vec![place.county, "城市建设投资有限公司"],
        },
        _ => vec![place.town, place.village, "村民委员会"],
    }
}

// ---- random records at realistic rates --------------------------------------

/// ~1 % of every department file's rows name someone who is not in the roster.
const PHANTOM_PPM: u32 = 10_101;

#[derive(Clone, Copy)]
enum Dept {
    Medical,
    Education,
    Vehicle,
    Accident,
    Estate,
    Company,
    PublicEmployee,
    Disability,
    Housing,
    Disaster,
    Employment,
    Blacklist,
    Agriculture,
}

/// Random department records for one member (co-resident or not).
pub fn random_records(rng: &mut Rng, f: &mut Files, ids: &mut IdAlloc, place: &Place, m: &Member, is_head: bool) -> Result<()> {
    let a = m.age;
    let medical_ppm = match m.health {
        SERIOUS => 700_000,
        people::CHRONIC => 220_000,
        DISABLED => 120_000,
        _ if a >= 60 => 90_000,
        _ => 40_000,
    };
    let plan: [(Dept, u32); 13] = [
        (Dept::Medical, medical_ppm),
        (Dept::Education, if (15..=22).contains(&a) { 300_000 } else { 0 }),
        (Dept::Vehicle, if (18..=70).contains(&a) { 60_000 } else { 0 }),
        (Dept::Accident, 3_000),
        (Dept::Estate, if a >= 18 { 50_000 } else { 0 }),
        (Dept::Company, if (20..=65).contains(&a) { 15_000 } else { 0 }),
        (Dept::PublicEmployee, if (22..=60).contains(&a) { 10_000 } else { 0 }),
        (Dept::Disability, if m.health == DISABLED { 850_000 } else { 3_000 }),
        (Dept::Housing, if is_head { 20_000 } else { 0 }),
        (Dept::Disaster, 10_000),
        (Dept::Employment, if (18..=59).contains(&a) { 40_000 } else { 0 }),
        (Dept::Blacklist, if a >= 18 { 5_000 } else { 0 }),
        (Dept::Agriculture, if (25..=70).contains(&a) { 20_000 } else { 0 }),
    ];
    for (dept, ppm) in plan {
        if ppm > 0 && rng.chance(ppm) {
            random_row(rng, f, place, dept, m)?;
            if rng.chance(PHANTOM_PPM) {
                let ph = phantom(rng, ids);
                random_row(rng, f, place, dept, &ph)?;
            }
        }
    }
    Ok(())
}

/// Someone not in the roster, with a valid unique ID.
fn phantom(rng: &mut Rng, ids: &mut IdAlloc) -> Member {
    let male = rng.chance(500_000);
    let sketch = Sketch { rel: "", age: rng.range(16, 75) as u32, male, surname: rng.below(SURNAMES.len() as u64) as u8 };
    let code = rng.below(DIVISION_CODES.len() as u64) as usize;
    people::realise(rng, ids, code, &sketch)
}

fn random_row(rng: &mut Rng, f: &mut Files, place: &Place, dept: Dept, m: &Member) -> Result<()> {
    let w = Who::of(m);
    match dept {
        Dept::Medical => {
            let major = m.health == SERIOUS && rng.chance(700_000);
            let visits = 1 + rng.below(3);
            for v in 0..visits {
                let self_pay = if major && v == 0 {
                    rng.range(3000_00, 40000_00)
                } else {
                    match rng.below(1000) {
                        0..=799 => rng.range(50_00, 2499_99),
                        800..=919 => rng.range(2500_00, 3999_99),
                        920..=969 => rng.range(4000_00, 9999_99),
                        _ => rng.range(10000_00, 40000_00),
                    }
                };
                let reimbursed = self_pay * rng.range(50, 300) / 100;
                let disease = if major { *rng.pick(&MAJOR_DISEASES) } else { *rng.pick(&DISEASES) };
                let date = window_date(rng, 850_000);
                medical(&mut f.medical, &w, date, reimbursed, self_pay, disease, major && v == 0)?;
            }
        }
        Dept::Education => {
            let stage = if m.age <= 17 {
                if rng.chance(700_000) {
                    "高中"
                } else {
                    "中职"
                }
            } else if rng.chance(450_000) {
                "大专"
            } else {
                "本科"
            };
            let fee = match stage {
                "高中" => rng.range(800_00, 3500_00),
                "中职" => rng.range(300_00, 2500_00),
                "大专" => rng.range(3000_00, 11000_00),
                _ => rng.range(4500_00, 16000_00),
            };
            let (year, date) = match rng.below(10) {
                0 => ("2019-2020", day_in(rng, days(2019, 8, 25), days(2019, 9, 20))),
                1 => ("2021-2022", day_in(rng, days(2021, 8, 25), days(2021, 9, 15))),
                _ if rng.chance(700_000) => ("2020-2021", day_in(rng, days(2020, 8, 25), days(2020, 9, 20))),
                _ => ("2020-2021", day_in(rng, days(2021, 2, 20), days(2021, 3, 10))),
            };
            education(&mut f.education, &w, stage, year, date, fee)?;
        }
        Dept::Vehicle => {
            let kind = *rng.weighted(&VEHICLE_KINDS);
            let date = if rng.chance(920_000) { day_in(rng, days(2008, 1, 1), DETERMINATION) } else { day_in(rng, DETERMINATION + 1, days(2021, 10, 31)) };
            let status = if rng.chance(880_000) { "正常" } else { "注销" };
            let no = plate_no(rng);
            vehicle(&mut f.vehicles, &w, place.plate, &no, kind, date, status)?;
        }
        Dept::Accident => {
            let date = window_date(rng, 800_000);
            let injury = *rng.weighted(&INJURIES);
            accident(&mut f.accidents, &w, date, injury)?;
        }
        Dept::Estate => {
            let kind = *rng.weighted(&ESTATE_KINDS);
            let date = if rng.chance(920_000) { day_in(rng, days(2005, 1, 1), DETERMINATION) } else { day_in(rng, DETERMINATION + 1, days(2021, 10, 31)) };
            real_estate(&mut f.real_estate, &w, kind, date)?;
        }
        Dept::Company => {
            let role = *rng.weighted(&ROLES);
            let name = company_name(rng, place, role == "个体工商户", m.name.surname());
            let status = if rng.chance(800_000) { "存续" } else { "注销" };
            company(&mut f.companies, &w, &name, role, status)?;
        }
        Dept::PublicEmployee => {
            let cat = *rng.weighted(&PUB_CATS);
            let unit = employer(rng, place, cat);
            public_employee(&mut f.public_employees, &w, &unit, cat)?;
        }
        Dept::Disability => {
            let kind = *rng.pick(&DISABILITY_KINDS);
            let grade = *rng.weighted(&DISABILITY_GRADES);
            disability(&mut f.disability, &w, kind, grade)?;
        }
        Dept::Housing => {
            let grade = *rng.weighted(&HOUSING_GRADES);
            let date = day_in(rng, days(2019, 6, 1), days(2021, 9, 30));
            housing(&mut f.housing, &w, grade, date)?;
        }
        Dept::Disaster => {
            let kind = *rng.pick(&DISASTER_KINDS);
            let loss = *rng.weighted(&LOSSES);
            let date = window_date(rng, 850_000);
            disaster(&mut f.disasters, &w, kind, loss, date)?;
        }
        Dept::Employment => {
            let back = day_in(rng, days(2020, 1, 1), days(2021, 5, 15));
            let idle = match rng.below(100) {
                0..=2 => 29,
                3..=5 => 30,
                _ => rng.below(181),
            };
            employment(&mut f.employment, &w, back, idle)?;
        }
        Dept::Blacklist => {
            let kind = *rng.pick(&BLACKLIST_KINDS);
            let date = day_in(rng, days(2015, 1, 1), days(2021, 10, 31));
            blacklist(&mut f.blacklist, &w, kind, date)?;
        }
        Dept::Agriculture => {
            let project = *rng.pick(&PROJECTS);
            let sit = *rng.weighted(&SITUATIONS);
            let date = window_date(rng, 850_000);
            agriculture(&mut f.agriculture, &w, project, sit, date)?;
        }
    }
    Ok(())
}
