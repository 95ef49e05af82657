//! Household members: composition, ages, health, labour, co-residence and IDs.

use super::dates;
use super::ids::{IdAlloc, DIVISION_CODES};
use super::names::Name;
use super::rng::Rng;

pub const HEALTHY: &str = "健康";
pub const CHRONIC: &str = "长期慢性病";
pub const SERIOUS: &str = "患有大病";
pub const DISABLED: &str = "残疾";

pub const L_NORMAL: &str = "普通劳动力";
pub const L_SKILLED: &str = "技能劳动力";
pub const L_WEAK: &str = "弱劳动力或半劳动力";
pub const L_LOST: &str = "丧失劳动力";
pub const L_NONE: &str = "无劳动力";

#[derive(Clone, Copy)]
pub struct Member {
    pub name: Name,
    pub id: [u8; 18],
    pub birth: i32,
    pub age: u32,
    pub male: bool,
    pub rel: &'static str,
    pub health: &'static str,
    pub labour: &'static str,
    pub resident: bool,
}

/// What to make before the ID is allocated.
pub struct Sketch {
    pub rel: &'static str,
    pub age: u32,
    pub male: bool,
    pub surname: u8,
}

/// Age in whole years at the determination date → a birth day with that age.
pub fn birth_for_age(rng: &mut Rng, age: u32) -> i32 {
    dates::days(2021 - age as i32, 5, 31) - rng.below(365) as i32
}

/// Allocates the ID and fills in name, health, labour (random).
pub fn realise(rng: &mut Rng, ids: &mut IdAlloc, home_code: usize, s: &Sketch) -> Member {
    let code = if rng.chance(850_000) { home_code } else { rng.below(DIVISION_CODES.len() as u64) as usize };
    let (id, birth) = ids.alloc(code, birth_for_age(rng, s.age), s.male);
    let name = Name::random(rng, !s.male, Some(s.surname));
    let health = health_for(rng, s.age);
    let labour = labour_for(rng, s.age, health);
    Member { name, id, birth, age: s.age, male: s.male, rel: s.rel, health, labour, resident: true }
}

fn health_for(rng: &mut Rng, age: u32) -> &'static str {
    let r = rng.below(1000);
    let (chronic, serious, disabled) = if age >= 60 {
        (300, 30, 50)
    } else if age >= 18 {
        (60, 10, 25)
    } else {
        (10, 5, 15)
    };
    if r < chronic {
        CHRONIC
    } else if r < chronic + serious {
        SERIOUS
    } else if r < chronic + serious + disabled {
        DISABLED
    } else {
        HEALTHY
    }
}

fn labour_for(rng: &mut Rng, age: u32, health: &str) -> &'static str {
    let r = rng.below(100);
    if age < 18 {
        L_NONE
    } else if health == DISABLED || health == SERIOUS {
        if r < 60 {
            L_LOST
        } else {
            L_WEAK
        }
    } else if age <= 59 {
        if r < 72 {
            L_NORMAL
        } else if r < 92 {
            L_SKILLED
        } else {
            L_WEAK
        }
    } else if age <= 69 {
        if r < 55 {
            L_WEAK
        } else if r < 85 {
            L_NORMAL
        } else {
            L_NONE
        }
    } else if r < 45 {
        L_NONE
    } else if r < 60 {
        L_LOST
    } else {
        L_WEAK
    }
}

/// Household size 1..=7, mean ≈ 3.3.
pub fn household_size(rng: &mut Rng) -> usize {
    *rng.weighted(&[(1, 12), (2, 22), (3, 23), (4, 20), (5, 13), (6, 7), (7, 3)])
}

/// The household's composition: head first, then spouse, parents, children, grandchildren.
pub fn compose(rng: &mut Rng, size: usize, out: &mut Vec<Sketch>) {
    out.clear();
    let head_age = if size == 1 {
        if rng.chance(400_000) {
            rng.range(25, 54)
        } else {
            rng.range(55, 90)
        }
    } else if rng.chance(600_000) {
        rng.range(26, 55)
    } else {
        rng.range(56, 78)
    } as u32;
    let head_male = rng.chance(880_000);
    let head_sur = rng.below(100) as u8;
    out.push(Sketch { rel: "户主", age: head_age, male: head_male, surname: head_sur });
    let mut rest = size - 1;
    if rest > 0 && rng.chance(880_000) {
        let age = (head_age as i64 + rng.range(-5, 5)).max(20) as u32;
        out.push(Sketch { rel: "配偶", age, male: !head_male, surname: rng.below(100) as u8 });
        rest -= 1;
    }
    // the children's surname: the father's, whichever one is the head
    let family_sur = out.iter().find(|s| s.male).map_or(head_sur, |s| s.surname);
    if head_age < 50 && rest > 0 && rng.chance(300_000) {
        let two = rest > 1 && rng.chance(500_000);
        let fa = (head_age + 22 + rng.below(10) as u32).min(95);
        let mo = (fa as i64 - rng.range(0, 4)).max(head_age as i64 + 18) as u32;
        if two || rng.chance(500_000) {
            out.push(Sketch { rel: "父亲", age: fa, male: true, surname: if head_male { head_sur } else { rng.below(100) as u8 } });
            rest -= 1;
            if two {
                out.push(Sketch { rel: "母亲", age: mo, male: false, surname: rng.below(100) as u8 });
                rest -= 1;
            }
        } else {
            out.push(Sketch { rel: "母亲", age: mo, male: false, surname: rng.below(100) as u8 });
            rest -= 1;
        }
    }
    if head_age >= 56 && rest >= 3 && rng.chance(700_000) {
        let son = head_age - 24 - rng.below(8) as u32;
        out.push(Sketch { rel: "子", age: son, male: true, surname: family_sur });
        out.push(Sketch { rel: "儿媳", age: (son as i64 + rng.range(-3, 3)).max(18) as u32, male: false, surname: rng.below(100) as u8 });
        rest -= 2;
        let max_gc = son.saturating_sub(19).clamp(1, 17);
        for _ in 0..rest {
            let male = rng.chance(520_000);
            out.push(Sketch { rel: if male { "孙子" } else { "孙女" }, age: rng.below(max_gc as u64) as u32, male, surname: family_sur });
        }
    } else {
        for _ in 0..rest {
            let male = rng.chance(520_000);
            let age = if head_age < 45 { rng.below((head_age - 20) as u64) as u32 } else { (head_age as i64 - 22 - rng.range(0, 12)).max(0) as u32 };
            out.push(Sketch { rel: if male { "子" } else { "女" }, age, male, surname: family_sur });
        }
    }
}

/// "户在人不在": a non-head member lives elsewhere (~4 % of all persons).
pub fn away_ppm(age: u32) -> u32 {
    match age {
        0..=15 => 15_000,
        16..=45 => 110_000,
        46..=64 => 50_000,
        _ => 15_000,
    }
}
