//! Planted households: fixed boundary cases of the reference policy (always) and
//! deliberately bad rows (only when `messy`). See the table in `mod.rs`.

use anyhow::Result;

use super::dates::days;
use super::depts::{self, Place, Who};
use super::files::Files;
use super::ids::IdAlloc;
use super::people::{self, Member, Sketch, CHRONIC, DISABLED, HEALTHY, L_LOST, L_NONE, L_NORMAL, SERIOUS};
use super::rng::Rng;

#[derive(Clone, Copy)]
pub enum Shape {
    /// 户主 M 45, 配偶 F 43, 子 M 19 (student, 无劳动力); all co-resident.
    Family3,
    /// Family3 + 女 F 22 普通劳动力 living elsewhere (是否共同生活 = 否).
    Family4Away,
    /// 户主 M 52, 配偶 F 50.
    Couple,
    /// 户主 M 78 丧失劳动力, 配偶 F 76 无劳动力.
    ElderlyNoLabour,
}

type Ymd = (i32, u32, u32);

pub enum Rec {
    Med(Ymd, i64, bool),
    Edu(i64),
    Veh(&'static str, Ymd, &'static str),
    Emp(u64),
    Disab(&'static str),
    Disas(&'static str),
    Acc(&'static str),
    Agri(&'static str),
    House(&'static str),
    Estate(&'static str, Ymd),
    Comp(&'static str, &'static str),
    PubEmp(&'static str),
    Black(Ymd),
}

pub struct Plant {
    pub poor: bool,
    pub shape: Shape,
    /// household net income in fen
    pub net: i64,
    /// 上年度家庭纯收入 in fen; None: equal to `net`
    pub previous: Option<i64>,
    /// (member index, record)
    pub recs: &'static [(usize, Rec)],
}

const POOR: bool = true;
const NORMAL: bool = false;
const D: Ymd = (2021, 3, 10);
/// per-capita 5000.00 with three co-resident members: below the line, listed anyway
const LOW: i64 = 15000_00;

const fn p(poor: bool, recs: &'static [(usize, Rec)]) -> Plant {
    Plant { poor, shape: Shape::Family3, net: LOW, previous: None, recs }
}
const fn q(poor: bool, shape: Shape, net: i64, previous: Option<i64>, recs: &'static [(usize, Rec)]) -> Plant {
    Plant { poor, shape, net, previous, recs }
}

/// Households 0001..0050 of the first village (see the table in mod.rs).
pub const PLANTS: [Plant; 50] = [
    p(POOR, &[(1, Rec::Med(D, 4000_00, false))]),                                                        // 0001
    p(POOR, &[(1, Rec::Med(D, 3999_99, false))]),                                                        // 0002
    p(NORMAL, &[(1, Rec::Med(D, 10000_00, false))]),                                                     // 0003
    p(NORMAL, &[(1, Rec::Med(D, 9999_99, false))]),                                                      // 0004
    p(NORMAL, &[(2, Rec::Edu(10000_00))]),                                                               // 0005
    p(NORMAL, &[(2, Rec::Edu(10000_01))]),                                                               // 0006
    q(POOR, Shape::Family4Away, 18959_99, None, &[]),                                                    // 0007
    q(POOR, Shape::Family3, 18959_97, None, &[]),                                                        // 0008
    q(NORMAL, Shape::Couple, 12639_99, None, &[]),                                                       // 0009
    p(NORMAL, &[(0, Rec::Emp(30))]),                                                                     // 0010
    p(NORMAL, &[(0, Rec::Emp(29))]),                                                                     // 0011
    p(NORMAL, &[(0, Rec::Veh("小型轿车", (2021, 5, 31), "正常"))]),                                      // 0012
    p(NORMAL, &[(0, Rec::Veh("小型轿车", (2021, 6, 1), "正常"))]),                                       // 0013
    p(NORMAL, &[(1, Rec::Med((2020, 6, 1), 12000_00, false))]),                                          // 0014
    p(NORMAL, &[(1, Rec::Med((2020, 5, 31), 12000_00, false))]),                                         // 0015
    p(NORMAL, &[(1, Rec::Med((2021, 5, 31), 12000_00, false))]),                                         // 0016
    p(NORMAL, &[(1, Rec::Med((2021, 6, 1), 12000_00, false))]),                                          // 0017
    p(POOR, &[(0, Rec::Med(D, 800_00, true))]),                                                          // 0018
    p(NORMAL, &[(0, Rec::Disab("一级"))]),                                                               // 0019
    p(NORMAL, &[(1, Rec::Disab("二级"))]),                                                               // 0020
    p(NORMAL, &[(1, Rec::Disab("三级"))]),                                                               // 0021
    p(NORMAL, &[(0, Rec::Disas("房屋倒塌"))]),                                                           // 0022
    p(NORMAL, &[(0, Rec::Disas("一般损坏"))]),                                                           // 0023
    p(POOR, &[(0, Rec::Acc("伤残"))]),                                                                   // 0024
    p(POOR, &[(0, Rec::Acc("受伤"))]),                                                                   // 0025
    p(NORMAL, &[(0, Rec::Agri("绝收"))]),                                                                // 0026
    p(NORMAL, &[(0, Rec::Agri("减产"))]),                                                                // 0027
    p(POOR, &[(0, Rec::House("C"))]),                                                                    // 0028
    p(POOR, &[(0, Rec::House("B"))]),                                                                    // 0029
    q(POOR, Shape::ElderlyNoLabour, 10000_00, None, &[]),                                                // 0030
    p(NORMAL, &[(0, Rec::Estate("商品房", (2019, 4, 12)))]),                                             // 0031
    p(NORMAL, &[(0, Rec::Estate("门面房", (2021, 6, 1)))]),                                              // 0032
    p(NORMAL, &[(0, Rec::Comp("法定代表人", "存续"))]),                                                  // 0033
    p(NORMAL, &[(0, Rec::Comp("股东", "注销"))]),                                                        // 0034
    p(NORMAL, &[(1, Rec::PubEmp("村干部"))]),                                                            // 0035
    p(NORMAL, &[(0, Rec::Black((2021, 5, 31)))]),                                                        // 0036
    p(NORMAL, &[(0, Rec::Black((2021, 6, 1)))]),                                                         // 0037
    q(NORMAL, Shape::Family3, 45000_00, Some(8000_00), &[(1, Rec::Med((2021, 1, 20), 9000_00, false))]), // 0038
    q(NORMAL, Shape::Family3, 30000_00, Some(30000_00), &[(1, Rec::Med((2021, 1, 20), 9500_00, false)), (2, Rec::Edu(2000_00))]), // 0039
    q(NORMAL, Shape::Family3, 30000_00, Some(60000_00), &[]),                                            // 0040
    q(NORMAL, Shape::Family3, 30000_01, Some(60000_00), &[]),                                            // 0041
    q(NORMAL, Shape::Family3, 45000_00, Some(0), &[(1, Rec::Med((2021, 1, 20), 500_00, false))]),        // 0042
    q(NORMAL, Shape::Family3, 45000_00, Some(0), &[]),                                                   // 0043
    q(NORMAL, Shape::Family4Away, LOW, None, &[(3, Rec::Disab("一级")), (3, Rec::Veh("小型轿车", (2015, 3, 1), "正常")), (3, Rec::Med(D, 12000_00, false))]), // 0044
    p(NORMAL, &[(0, Rec::Veh("小型轿车", (2016, 7, 1), "注销"))]),     // 0045
    p(NORMAL, &[(0, Rec::Veh("轻型货车", (2018, 7, 1), "正常"))]),     // 0046
    p(NORMAL, &[(0, Rec::Veh("小型普通客车", (2019, 7, 1), "正常"))]), // 0047
    q(NORMAL, Shape::Family3, 30000_00, Some(30000_00), &[(1, Rec::Med((2021, 1, 20), 9040_01, false)), (2, Rec::Edu(2000_00))]), // 0048
    q(NORMAL, Shape::Family3, 45000_00, Some(9000_00), &[(1, Rec::Med((2021, 1, 20), 9000_00, false))]), // 0049
    p(NORMAL, &[(1, Rec::Med(D, 4000_00, false))]),                    // 0050
];

/// Messy households 0051..0059 follow the boundary ones.
pub const MESSY_FIRST: usize = PLANTS.len();
pub const MESSY_COUNT: usize = 9;

/// Sketches of a shape: (sketch, labour, health, co-resident).
fn shape_members(shape: Shape, rng: &mut Rng) -> Vec<(Sketch, &'static str, &'static str, bool)> {
    let sur = rng.below(100) as u8;
    let wife = rng.below(100) as u8;
    let s = |rel, age, male, surname| Sketch { rel, age, male, surname };
    match shape {
        Shape::Family3 | Shape::Family4Away => {
            let mut v = vec![
                (s("户主", 45, true, sur), L_NORMAL, HEALTHY, true),
                (s("配偶", 43, false, wife), L_NORMAL, HEALTHY, true),
                (s("子", 19, true, sur), L_NONE, HEALTHY, true),
            ];
            if let Shape::Family4Away = shape {
                v.push((s("女", 22, false, sur), L_NORMAL, HEALTHY, false));
            }
            v
        }
        Shape::Couple => vec![(s("户主", 52, true, sur), L_NORMAL, HEALTHY, true), (s("配偶", 50, false, wife), L_NORMAL, HEALTHY, true)],
        Shape::ElderlyNoLabour => vec![(s("户主", 78, true, sur), L_LOST, CHRONIC, true), (s("配偶", 76, false, wife), L_NONE, HEALTHY, true)],
    }
}

/// The members of a planted household (IDs from the shared allocator).
/// `x_head`: keep allocating until the head's ID ends in the check character X.
pub fn members(shape: Shape, recs: &[(usize, Rec)], rng: &mut Rng, ids: &mut IdAlloc, code: usize, x_head: bool, out: &mut Vec<Member>) {
    out.clear();
    for (i, (sk, labour, health, resident)) in shape_members(shape, rng).into_iter().enumerate() {
        let mut m = people::realise(rng, ids, code, &sk);
        while i == 0 && x_head && m.id[17] != b'X' {
            m = people::realise(rng, ids, code, &sk);
        }
        m.labour = labour;
        m.health = health;
        m.resident = resident;
        for (j, r) in recs {
            if *j == i {
                match r {
                    Rec::Disab("一级") | Rec::Disab("二级") => m.health = DISABLED,
                    Rec::Med(_, _, true) => m.health = SERIOUS,
                    _ => {}
                }
            }
        }
        out.push(m);
    }
}

fn ymd(d: Ymd) -> i32 {
    days(d.0, d.1, d.2)
}

/// Writes one planted department record.
pub fn write_rec(f: &mut Files, rng: &mut Rng, place: &Place, w: &Who, rec: &Rec) -> Result<()> {
    match *rec {
        Rec::Med(d, pay, major) => {
            let disease = if major { "恶性肿瘤" } else { "肺炎" };
            depts::medical(&mut f.medical, w, ymd(d), pay, pay, disease, major)
        }
        Rec::Edu(fee) => depts::education(&mut f.education, w, "本科", "2020-2021", days(2020, 9, 5), fee),
        Rec::Veh(kind, d, status) => {
            let no = depts::plate_no(rng);
            depts::vehicle(&mut f.vehicles, w, place.plate, &no, kind, ymd(d), status)
        }
        Rec::Emp(idle) => depts::employment(&mut f.employment, w, days(2021, 1, 15), idle),
        Rec::Disab(grade) => depts::disability(&mut f.disability, w, "肢体残疾", grade),
        Rec::Disas(loss) => depts::disaster(&mut f.disasters, w, "洪涝", loss, days(2020, 7, 10)),
        Rec::Acc(injury) => depts::accident(&mut f.accidents, w, days(2020, 11, 3), injury),
        Rec::Agri(sit) => depts::agriculture(&mut f.agriculture, w, "精品水果种植", sit, days(2020, 8, 20)),
        Rec::House(grade) => depts::housing(&mut f.housing, w, grade, days(2020, 10, 15)),
        Rec::Estate(kind, d) => depts::real_estate(&mut f.real_estate, w, kind, ymd(d)),
        Rec::Comp(role, status) => depts::company(&mut f.companies, w, &["贵州", "金谷", "农业发展有限公司"], role, status),
        Rec::PubEmp(cat) => depts::public_employee(&mut f.public_employees, w, &[place.town, place.village, "村民委员会"], cat),
        Rec::Black(d) => depts::blacklist(&mut f.blacklist, w, "拒不履行生效法律文书", ymd(d)),
    }
}
