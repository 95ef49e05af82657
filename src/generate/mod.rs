//! Deterministic test-data generator: a county (or a province) of rural households
//! in the canonical data-directory layout (15 CSV files), streamed to disk.
//!
//! Same `GenConfig` → byte-identical files. Each household draws from its own
//! PRNG stream (xoshiro256**, seeded from (seed, household index)); ID numbers
//! come from a counter per (division code, birth date, sex), so they are valid
//! (GB 11643-1999) and unique by construction. Memory stays bounded (~30 MB)
//! whatever the size: only the layout, the ID counters and one household live
//! in memory. Money is integer fen, written as yuan with two decimals.
//!
//! Layout: 150,000+ households per county (up to 88 counties, codes from
//! `ids::DIVISION_CODES`; the first is 示例县, 522601), 1–12 townships per county
//! (6–12 once a county has 2,400+ households), villages of roughly 40–550 households
//! (about 5 per township in a small county, up to ~400 households each in a large one).
//! 户编号 = county code (6) + township (3, from 101) + village (3, from 001) +
//! household in village (4): 16 digits.
//!
//! # Planted boundary households (every data set; all in the first village)
//! Household `kkkk` is the kkkk-th data row of households.csv, 户编号 `522601101001kkkk`
//! (county 522601 示例县, township 101 = 龙场镇, village 001), whatever the seed; the
//! seed changes names and ID numbers, never the planted values.
//! Unless noted: 3 co-resident members (户主 45, 配偶 43, 子 19 student), net income
//! 15000.00 → per-capita 5000.00 (below the 6320 line, so listed whatever the
//! triggers: the boundary shows in 风险类型 / 建议), 上年度 = this year, no other records.
//! Records are on member 0 = 户主, 1 = 配偶, 2 = 子, 3 = 女 (not co-resident).
//!
//! | 户 | type | planted | expected under guizhou-2021 |
//! |---|---|---|---|
//! | 0001 | 脱贫户 | medical 个人自付 4000.00 (配偶) | 因病 |
//! | 0002 | 脱贫户 | medical 3999.99 | 待核实 |
//! | 0003 | 一般农户 | medical 10000.00 | 因病 |
//! | 0004 | 一般农户 | medical 9999.99 | 待核实 |
//! | 0005 | 一般农户 | education 自付费用 10000.00 (子) | 待核实 (not 超过1万) |
//! | 0006 | 一般农户 | education 10000.01 | 因学 |
//! | 0007 | 脱贫户 | NI 18959.99, 4 members of whom 3 co-resident → PCI 6319.996… → 6320.00 | not listed |
//! | 0008 | 脱贫户 | NI 18959.97, 3 co-resident → 6319.99 | 脱贫不稳定户, 待核实 |
//! | 0009 | 一般农户 | NI 12639.99, 2 co-resident → 6319.995 → half-up 6320.00 | not listed |
//! | 0010 | 一般农户 | employment 返乡未就业天数 30 (户主) | 因务工就业不稳 |
//! | 0011 | 一般农户 | employment 29 | 待核实 |
//! | 0012 | 一般农户 | vehicle 小型轿车 正常 登记 2021-05-31 | exclusion: 建议不纳入(需评议) |
//! | 0013 | 一般农户 | vehicle 小型轿车 正常 登记 2021-06-01 | 纳入核实 |
//! | 0014 | 一般农户 | medical 12000.00 dated 2020-06-01 (window start) | 因病 |
//! | 0015 | 一般农户 | medical 12000.00 dated 2020-05-31 | 待核实 |
//! | 0016 | 一般农户 | medical 12000.00 dated 2021-05-31 (window end) | 因病 |
//! | 0017 | 一般农户 | medical 12000.00 dated 2021-06-01 | 待核实 |
//! | 0018 | 脱贫户 | medical 800.00 是否大病=是 (户主) | 因病 |
//! | 0019 | 一般农户 | disability 一级 (户主) | 因残 |
//! | 0020 | 一般农户 | disability 二级 (配偶) | 因残 |
//! | 0021 | 一般农户 | disability 三级 | 待核实 |
//! | 0022 | 一般农户 | disaster 房屋倒塌 | 因灾 |
//! | 0023 | 一般农户 | disaster 一般损坏 | 待核实 |
//! | 0024 | 脱贫户 | accident 伤残 | 因意外事故 |
//! | 0025 | 脱贫户 | accident 受伤 | 待核实 |
//! | 0026 | 一般农户 | agriculture 绝收 | 因产业项目失败 |
//! | 0027 | 一般农户 | agriculture 减产 | 待核实 |
//! | 0028 | 脱贫户 | housing C (户主) | 住房安全 |
//! | 0029 | 脱贫户 | housing B | 待核实 |
//! | 0030 | 脱贫户 | 户主 78 丧失劳动力 + 配偶 76 无劳动力, NI 10000.00 | 缺劳动力 |
//! | 0031 | 一般农户 | real estate 商品房 2019-04-12 | exclusion |
//! | 0032 | 一般农户 | real estate 门面房 2021-06-01 | no exclusion |
//! | 0033 | 一般农户 | company 法定代表人 存续 | exclusion |
//! | 0034 | 一般农户 | company 股东 注销 | no exclusion |
//! | 0035 | 一般农户 | public employee 村干部 (配偶) | exclusion |
//! | 0036 | 一般农户 | blacklist 立案 2021-05-31 | exclusion |
//! | 0037 | 一般农户 | blacklist 立案 2021-06-01 | no exclusion |
//! | 0038 | 一般农户 | NI 45000.00, 上年度 8000.00, medical 9000.00 → RE > 上年度 | 突发严重困难户, 待核实 |
//! | 0039 | 一般农户 | NI 30000.00, 上年度 30000.00, medical 9500.00 + education 2000.00 → (NI−RE)/3 = 6166.67 | 突发严重困难户 |
//! | 0040 | 一般农户 | NI 30000.00, 上年度 60000.00 (drop of exactly 50 %) | 突发严重困难户 |
//! | 0041 | 一般农户 | NI 30000.01, 上年度 60000.00 | not listed |
//! | 0042 | 一般农户 | NI 45000.00, 上年度 0, medical 500.00 → RE > 0 | 突发严重困难户 |
//! | 0043 | 一般农户 | NI 45000.00, 上年度 0, no records | not listed |
//! | 0044 | 一般农户 | 4 members, 女 not co-resident carries disability 一级, 小型轿车 正常 2015, medical 12000.00 | 边缘易致贫户, 待核实, 纳入核实 |
//! | 0045 | 一般农户 | vehicle 小型轿车 注销 | no exclusion |
//! | 0046 | 一般农户 | vehicle 轻型货车 正常 | no exclusion |
//! | 0047 | 一般农户 | vehicle 小型普通客车 正常 2019 | exclusion |
//! | 0048 | 一般农户 | NI 30000.00, 上年度 30000.00, RE 9040.01 + 2000.00 → (NI−RE)/3 = 6319.996… → 6320.00 | not listed |
//! | 0049 | 一般农户 | NI 45000.00, 上年度 9000.00, medical 9000.00 (RE = 上年度, not >) | not listed |
//! | 0050 | 一般农户 | medical 4000.00 (threshold is 10000 for 一般农户) | 待核实 |
//!
//! # Messy rows (`messy = true` only; households 0051–0059, each 一般农户, PCI 5000.00)
//! To be rejected (10 rows in 4 files):
//! - members.csv: 0051's 子 with a wrong check character;
//! - medical.csv: 0051's 配偶 with a wrong check character (12000.00);
//! - medical.csv: 0054's 户主 as `5.22601E+17` (Excel scientific notation);
//! - medical.csv: 0055's 户主 with 个人自付 `12,3a` (bad amount, quoted);
//! - medical.csv: 0055's 配偶 with 个人自付 empty (missing required value);
//! - employment.csv: 0055's 户主 with 返乡日期 `2021-13-45` (bad date);
//! - members.csv: 0056's 子 listed again under 0057 (one person in two households);
//! - households.csv: 0058 written twice (duplicate 户编号; the copy has another 工资性收入);
//! - households.csv/members.csv: 0059 has no co-resident member (all 3 是否共同生活 = 否).
//!
//! Valid after normalization, must join (4 rows): members.csv 0052's 户主, whose ID
//! ends in X, written with a lower-case x; medical.csv the same person with leading and
//! trailing spaces and lower-case x (12000.00 → 因病); disability.csv 0052's 配偶 in
//! full-width digits (一级 → 因残); vehicles.csv 0053's 户主 as a 15-digit legacy number
//! (小型轿车 正常 → exclusion). Also households.csv starts with a UTF-8 BOM and
//! members.csv has CRLF line ends.

// money literals are written yuan_fen: 18959_99 is 18959.99 yuan
#![allow(clippy::inconsistent_digit_grouping)]

mod dates;
mod depts;
pub mod extracts;
mod files;
pub mod ids;
mod income;
mod layout;
mod names;
mod people;
mod plant;
mod rng;
mod write;

use anyhow::{Context, Result};
use std::path::Path;

use depts::{Place, Who};
use files::Files;
use ids::{IdAlloc, DIVISION_CODES};
use income::{Income, LINE_FEN};
use people::{Member, Sketch, L_LOST, L_NONE};
use plant::{Shape, MESSY_COUNT, MESSY_FIRST, PLANTS};
use rng::Rng;
use write::CsvOut;

pub struct GenConfig {
    pub households: usize,
    pub seed: u64,
    pub messy: bool,
}

pub struct GenSummary {
    /// (file name, data rows written excluding the header), in canonical order.
    pub files: Vec<(String, u64)>,
}

/// Writes the 15 canonical CSV files of a data directory into `out_dir` (created
/// if missing).
pub fn generate(cfg: &GenConfig, out_dir: &Path) -> Result<GenSummary> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let counties = layout::build(cfg.households, cfg.seed, MESSY_FIRST + MESSY_COUNT + 5)?;
    let mut g =
        Gen { f: Files::create(out_dir, cfg.messy)?, ids: IdAlloc::new(), members: Vec::with_capacity(16), sketches: Vec::with_capacity(8), dup_person: None };
    let mut h = 0usize;
    for county in &counties {
        let code = DIVISION_CODES[county.code];
        for (ti, town) in county.townships.iter().enumerate() {
            for (vi, village) in town.villages.iter().enumerate() {
                let place = Place { county: &county.name, town: &town.name, village: &village.name, plate: county.plate };
                let mut hid = [0u8; 16];
                hid[..6].copy_from_slice(code.as_bytes());
                digits(&mut hid[6..9], 101 + ti as u64);
                digits(&mut hid[9..12], 1 + vi as u64);
                for seq in 1..=village.households as u64 {
                    digits(&mut hid[12..16], seq);
                    let mut rng = Rng::derive(cfg.seed, 2, h as u64);
                    if h < PLANTS.len() {
                        g.planted(&mut rng, &hid, &place, county.code, &PLANTS[h])?;
                    } else if cfg.messy && h < MESSY_FIRST + MESSY_COUNT {
                        g.messy_household(&mut rng, &hid, &place, county.code, h - MESSY_FIRST)?;
                    } else {
                        g.random(&mut rng, &hid, &place, county.code)?;
                    }
                    h += 1;
                }
            }
        }
    }
    debug_assert_eq!(h, cfg.households);
    Ok(GenSummary { files: g.f.finish()? })
}

fn digits(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

struct Gen {
    f: Files,
    ids: IdAlloc,
    members: Vec<Member>,
    sketches: Vec<Sketch>,
    /// messy: 0056's 子, listed again under 0057
    dup_person: Option<Member>,
}

fn household_row(out: &mut CsvOut, hid: &[u8], place: &Place, head: &Member, poor: bool, status: &str, inc: &Income) -> Result<()> {
    out.raw(hid).text(place.county).text(place.town).text(place.village);
    out.concat(&head.name.parts()).id(&head.id);
    out.text(if poor { "脱贫户" } else { "一般农户" }).text(status);
    out.money(inc.wage).money(inc.business).money(inc.property).money(inc.transfer).money(inc.expense).money(inc.previous);
    out.end()
}

fn member_row(out: &mut CsvOut, hid: &[u8], m: &Member, id: &[u8]) -> Result<()> {
    out.raw(hid).concat(&m.name.parts()).id(id).text(m.rel);
    out.text(if m.male { "男" } else { "女" }).date(m.birth).text(m.health).text(m.labour);
    out.text(if m.resident { "是" } else { "否" });
    out.end()
}

fn status_for(rng: &mut Rng, poor: bool, pci: i64) -> &'static str {
    let r = rng.below(1000);
    if pci < LINE_FEN {
        match (poor, r) {
            (true, 0..=499) => "脱贫不稳定户",
            (false, 0..=399) => "边缘易致贫户",
            _ => "",
        }
    } else {
        match (poor, r) {
            (_, 0..=2) => "突发严重困难户",
            (true, 3..=22) => "风险消除",
            (true, 23..=32) => "脱贫不稳定户",
            (false, 3..=10) => "风险消除",
            (false, 11..=15) => "边缘易致贫户",
            _ => "",
        }
    }
}

impl Gen {
    fn random(&mut self, rng: &mut Rng, hid: &[u8], place: &Place, code: usize) -> Result<()> {
        let size = people::household_size(rng);
        people::compose(rng, size, &mut self.sketches);
        self.members.clear();
        for (i, s) in self.sketches.iter().enumerate() {
            let mut m = people::realise(rng, &mut self.ids, code, s);
            if i > 0 && rng.chance(people::away_ppm(m.age)) {
                m.resident = false;
            }
            self.members.push(m);
        }
        // ~1.5 % of households: nobody able to work
        if rng.chance(15_000) {
            for m in &mut self.members {
                if m.labour != L_LOST && m.labour != L_NONE {
                    m.labour = if m.age >= 60 { L_NONE } else { L_LOST };
                }
            }
        }
        let n = self.members.iter().filter(|m| m.resident).count() as i64;
        let poor = rng.chance(300_000);
        let net = income::random_pci(rng, poor) * n + rng.below(n as u64) as i64;
        let mut inc = income::split(rng, net, poor);
        inc.previous = income::random_previous(rng, net);
        let status = status_for(rng, poor, income::per_capita(net, n));
        household_row(&mut self.f.households, hid, place, &self.members[0], poor, status, &inc)?;
        for m in &self.members {
            member_row(&mut self.f.members, hid, m, &m.id)?;
        }
        for (i, m) in self.members.iter().enumerate() {
            depts::random_records(rng, &mut self.f, &mut self.ids, place, m, i == 0)?;
        }
        Ok(())
    }

    fn planted(&mut self, rng: &mut Rng, hid: &[u8], place: &Place, code: usize, p: &plant::Plant) -> Result<()> {
        plant::members(p.shape, p.recs, rng, &mut self.ids, code, false, &mut self.members);
        let mut inc = income::split(rng, p.net, p.poor);
        inc.previous = p.previous.unwrap_or(p.net);
        household_row(&mut self.f.households, hid, place, &self.members[0], p.poor, "", &inc)?;
        for m in &self.members {
            member_row(&mut self.f.members, hid, m, &m.id)?;
        }
        for (i, rec) in p.recs {
            let m = self.members[*i];
            plant::write_rec(&mut self.f, rng, place, &Who::of(&m), rec)?;
        }
        Ok(())
    }

    /// Messy household `k` (0-based from 0051); see the module docs.
    fn messy_household(&mut self, rng: &mut Rng, hid: &[u8], place: &Place, code: usize, k: usize) -> Result<()> {
        const LOW: i64 = 15000_00;
        plant::members(Shape::Family3, &[], rng, &mut self.ids, code, k == 1, &mut self.members);
        if k == 8 {
            for m in &mut self.members {
                m.resident = false;
            }
        }
        let mut inc = income::split(rng, LOW, false);
        inc.previous = LOW;
        household_row(&mut self.f.households, hid, place, &self.members[0], false, "", &inc)?;
        if k == 7 {
            let copy = Income { wage: inc.wage + 1000_00, ..inc };
            household_row(&mut self.f.households, hid, place, &self.members[0], false, "", &copy)?;
        }
        let (head, spouse, child) = (self.members[0], self.members[1], self.members[2]);
        for (i, m) in self.members.iter().enumerate() {
            let mut id = m.id.to_vec();
            if k == 0 && i == 2 {
                id[17] = wrong_check(id[17]);
            }
            if k == 1 && i == 0 {
                id[17] = b'x';
            }
            member_row(&mut self.f.members, hid, m, &id)?;
        }
        let d = dates::days(2021, 3, 10);
        let med = |f: &mut Files, who: &Who, pay: i64| depts::medical(&mut f.medical, who, d, pay, pay, "肺炎", false);
        match k {
            0 => {
                let mut id = spouse.id;
                id[17] = wrong_check(id[17]);
                med(&mut self.f, &Who { id: &id, name: spouse.name }, 12000_00)?;
            }
            1 => {
                let mut id = b"  ".to_vec();
                id.extend_from_slice(&head.id[..17]);
                id.extend_from_slice(b"x  ");
                med(&mut self.f, &Who { id: &id, name: head.name }, 12000_00)?;
                let wide: String = std::str::from_utf8(&spouse.id)?
                    .chars()
                    .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c) } else { c })
                    .collect();
                depts::disability(&mut self.f.disability, &Who { id: wide.as_bytes(), name: spouse.name }, "肢体残疾", "一级")?;
            }
            2 => {
                let old = ids::legacy15(&head.id);
                depts::vehicle(
                    &mut self.f.vehicles,
                    &Who { id: &old, name: head.name },
                    place.plate,
                    &depts::plate_no(rng),
                    "小型轿车",
                    dates::days(2016, 8, 8),
                    "正常",
                )?;
            }
            3 => med(&mut self.f, &Who { id: b"5.22601E+17", name: head.name }, 12000_00)?,
            4 => {
                let hw = Who::of(&head);
                let out = &mut self.f.medical;
                out.bytes(hw.id).concat(&hw.name.parts()).date(d).money(24000_00).money(12000_00).text("12,3a").text("肺炎").text("否");
                out.end()?;
                let sw = Who::of(&spouse);
                out.bytes(sw.id).concat(&sw.name.parts()).date(d).money(24000_00).money(12000_00).text("").text("肺炎").text("否");
                out.end()?;
                let out = &mut self.f.employment;
                out.bytes(hw.id).concat(&hw.name.parts()).text("2021-13-45").int(45);
                out.end()?;
            }
            5 => self.dup_person = Some(child),
            6 => {
                if let Some(m) = self.dup_person.take() {
                    member_row(&mut self.f.members, hid, &m, &m.id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A check character that is not `c`.
fn wrong_check(c: u8) -> u8 {
    if c == b'0' {
        b'1'
    } else {
        b'0'
    }
}

#[cfg(test)]
mod tests;
