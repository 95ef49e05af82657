//! Person names: a surname and a one- or two-character given name, stored as
//! indices so that a member costs no allocation.

use super::rng::Rng;

pub const SURNAMES: [&str; 100] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许",
    "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢",
    "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段",
    "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤",
];

const MALE: [&str; 48] = [
    "伟", "强", "军", "勇", "杰", "涛", "明", "超", "平", "刚", "辉", "林", "华", "建", "国", "文", "斌", "波", "峰", "磊", "鹏", "飞", "兵", "德", "成", "洪",
    "荣", "贵", "富", "福", "发", "学", "志", "海", "龙", "江", "永", "昌", "武", "宇", "浩", "俊", "凯", "松", "光", "忠", "祥", "红",
];

const FEMALE: [&str; 48] = [
    "芳", "娟", "敏", "静", "丽", "艳", "霞", "燕", "玲", "梅", "兰", "英", "琴", "萍", "红", "秀", "春", "桂", "珍", "凤", "花", "莉", "娜", "婷", "雪", "慧",
    "琳", "倩", "欣", "悦", "佳", "丹", "月", "云", "香", "菊", "莲", "翠", "美", "妹", "群", "荣", "仙", "巧", "银", "金", "小", "晓",
];

#[derive(Clone, Copy)]
pub struct Name {
    sur: u8,
    g1: u8,
    g2: u8, // 255 = one-character given name
    female: bool,
}

impl Name {
    pub fn random(rng: &mut Rng, female: bool, surname: Option<u8>) -> Name {
        let sur = surname.unwrap_or_else(|| rng.below(SURNAMES.len() as u64) as u8);
        let g1 = rng.below(48) as u8;
        let g2 = if rng.chance(700_000) { rng.below(48) as u8 } else { 255 };
        Name { sur, g1, g2, female }
    }

    pub fn surname(&self) -> u8 {
        self.sur
    }

    /// The pieces to concatenate: [surname, given1, given2-or-""].
    pub fn parts(&self) -> [&'static str; 3] {
        let given: &[&str; 48] = if self.female { &FEMALE } else { &MALE };
        let g2 = if self.g2 == 255 { "" } else { given[self.g2 as usize] };
        [SURNAMES[self.sur as usize], given[self.g1 as usize], g2]
    }
}
