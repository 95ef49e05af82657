//! The administrative layout: counties → townships (乡镇) → villages (村) with
//! household counts. Small (tens of thousands of villages at most), computed
//! before any row is written.

use anyhow::{bail, Result};

use super::ids::DIVISION_CODES;
use super::rng::Rng;

pub struct Village {
    pub name: String,
    pub households: u32,
}

pub struct Township {
    pub name: String,
    pub villages: Vec<Village>,
}

pub struct County {
    /// Index into `DIVISION_CODES`; also the 户编号 prefix.
    pub code: usize,
    pub name: String,
    /// Licence-plate prefix of the prefecture (贵H for 黔东南 …).
    pub plate: &'static str,
    pub townships: Vec<Township>,
}

/// Households per county at least; more counties only past this size.
const COUNTY_MIN: usize = 150_000;

const FIRST_TOWNSHIPS: [&str; 12] = ["龙场镇", "新店镇", "石板镇", "兴隆乡", "平寨镇", "大坪乡", "青山镇", "红岩镇", "高寨乡", "猫场镇", "长坡镇", "坝固镇"];

const TOWN_A: [&str; 36] = [
    "龙", "凤", "马", "牛", "猫", "鸡", "羊", "虎", "象", "鹿", "云", "雷", "青", "石", "金", "银", "铜", "铁", "白", "黑", "红", "黄", "兴", "永", "长", "平",
    "安", "新", "太", "高", "大", "小", "东", "西", "南", "北",
];
const TOWN_B: [&str; 36] = [
    "场", "店", "板", "隆", "寨", "坪", "山", "岩", "坡", "固", "江", "河", "溪", "阳", "关", "口", "桥", "堡", "屯", "坝", "洞", "源", "田", "林", "水", "营",
    "冲", "湾", "塘", "井", "滩", "门", "头", "台", "沟", "庄",
];
const VIL_A: [&str; 36] = [
    "大", "小", "新", "老", "上", "下", "高", "坪", "石", "岩", "水", "沙", "黄", "白", "红", "青", "杨", "李", "王", "马", "牛", "羊", "鸡", "鱼", "竹", "茶",
    "桃", "梨", "花", "凉", "偏", "平", "中", "团", "联", "合",
];
const VIL_B: [&str; 30] = [
    "寨", "坝", "坡", "田", "冲", "湾", "沟", "山", "岭", "河", "桥", "井", "塘", "坪", "庄", "堡", "屯", "院", "营", "关", "口", "场", "林", "溪", "洞", "脚",
    "头", "边", "坎", "垭",
];
const COUNTY_A: [&str; 20] = ["青", "石", "云", "龙", "凤", "金", "白", "红", "平", "安", "兴", "永", "长", "清", "新", "丰", "双", "黄", "太", "福"];
const COUNTY_B: [&str; 18] = ["山", "河", "江", "岭", "溪", "阳", "源", "水", "川", "宁", "田", "城", "林", "泉", "台", "峰", "屏", "门"];

fn plate_prefix(code: &str) -> &'static str {
    match &code[..4] {
        "5226" => "贵H",
        "5227" => "贵J",
        "5201" => "贵A",
        "5202" => "贵B",
        "5203" => "贵C",
        "5204" => "贵G",
        "5205" => "贵F",
        "5206" => "贵D",
        _ => "贵E",
    }
}

/// Splits `total` into `parts` shares with random weights lo..=hi.
fn split(rng: &mut Rng, total: usize, parts: usize, lo: i64, hi: i64) -> Vec<usize> {
    let w: Vec<u64> = (0..parts).map(|_| rng.range(lo, hi) as u64).collect();
    let sum: u64 = w.iter().sum();
    let mut out: Vec<usize> = w.iter().map(|&x| (total as u64 * x / sum) as usize).collect();
    let mut rest = total - out.iter().sum::<usize>();
    let mut i = 0;
    while rest > 0 {
        out[i % parts] += 1;
        rest -= 1;
        i += 1;
    }
    out
}

/// `count` distinct two-character names from a × b, in a seed-dependent order,
/// skipping doubled characters and names in `taken`.
fn pick_names(
    rng: &mut Rng,
    a: &[&str],
    b: &[&str],
    count: usize,
    suffix: &dyn Fn(&mut Rng) -> &'static str,
    taken: &mut std::collections::HashSet<String>,
) -> Vec<String> {
    let n = a.len() * b.len();
    // an odd stride coprime with 2, 3 and 5 walks every combination once
    let stride = 1009 % n.max(1);
    let stride = if gcd(stride, n) == 1 { stride } else { 1 };
    let offset = rng.below(n as u64) as usize;
    let mut out = Vec::with_capacity(count);
    let mut k = 0;
    while out.len() < count {
        if k >= n {
            // pool exhausted (never for realistic sizes): number the rest
            let base = format!("{}{}", out[out.len() % n.max(1)], out.len());
            out.push(base);
            continue;
        }
        let idx = (offset + k * stride) % n;
        k += 1;
        let (x, y) = (a[idx / b.len()], b[idx % b.len()]);
        if x == y {
            continue;
        }
        let base = format!("{x}{y}");
        if !taken.insert(base.clone()) {
            continue;
        }
        out.push(format!("{base}{}", suffix(rng)));
    }
    out
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The layout for `n` households. The first village of the data set gets at least
/// `first_min` households (or all of its township's) so planted households share it.
pub fn build(n: usize, seed: u64, first_min: usize) -> Result<Vec<County>> {
    let mut rng = Rng::derive(seed, 1, 0);
    let per = COUNTY_MIN.max(n.div_ceil(DIVISION_CODES.len()));
    let n_counties = n.div_ceil(per).max(1);
    let county_sizes = split_even(n, n_counties);
    let mut town_taken: std::collections::HashSet<String> = FIRST_TOWNSHIPS.iter().map(|t| t.trim_end_matches(['镇', '乡']).to_string()).collect();
    let mut county_taken = std::collections::HashSet::new();
    county_taken.insert("示例".to_string());
    let county_names = pick_names(&mut rng, &COUNTY_A, &COUNTY_B, n_counties - 1, &|_| "县", &mut county_taken);
    let mut counties = Vec::with_capacity(n_counties);
    for (ci, &nc) in county_sizes.iter().enumerate() {
        let cap = (8 + nc / 50_000).min(12);
        let n_town = (nc / 400).clamp(1, cap);
        let town_sizes = split(&mut rng, nc, n_town, 70, 130);
        let names: Vec<String> = if ci == 0 {
            FIRST_TOWNSHIPS[..n_town].iter().map(|s| s.to_string()).collect()
        } else {
            pick_names(&mut rng, &TOWN_A, &TOWN_B, n_town, &|r: &mut Rng| if r.chance(700_000) { "镇" } else { "乡" }, &mut town_taken)
        };
        let mut townships = Vec::with_capacity(n_town);
        for (ti, (&nt, name)) in town_sizes.iter().zip(names).enumerate() {
            let target = (nt / 5).clamp(60, 400);
            let nv = nt.div_ceil(target).clamp(1, 999);
            let mut sizes = split(&mut rng, nt, nv, 60, 140);
            if ci == 0 && ti == 0 {
                let need = first_min.min(nt);
                while sizes[0] < need {
                    let j = (1..nv).max_by_key(|&j| (sizes[j], std::cmp::Reverse(j))).unwrap();
                    sizes[j] -= 1;
                    sizes[0] += 1;
                }
            }
            if let Some(&m) = sizes.iter().max() {
                if m > 9999 {
                    bail!("{n} households: a village would exceed 9999 households");
                }
            }
            let mut vtaken = std::collections::HashSet::new();
            let vnames = pick_names(&mut rng, &VIL_A, &VIL_B, nv, &|_| "村", &mut vtaken);
            let villages = sizes.into_iter().zip(vnames).map(|(h, name)| Village { name, households: h as u32 }).collect();
            townships.push(Township { name, villages });
        }
        let name = if ci == 0 { "示例县".to_string() } else { county_names[ci - 1].clone() };
        counties.push(County { code: ci, name, plate: plate_prefix(DIVISION_CODES[ci]), townships });
    }
    Ok(counties)
}

fn split_even(n: usize, parts: usize) -> Vec<usize> {
    (0..parts).map(|i| n / parts + usize::from(i < n % parts)).collect()
}
