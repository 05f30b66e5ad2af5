//! The address range index: every IPv4 or IPv6 indicator (single addresses and CIDR ranges,
//! nested or overlapping) cut into sorted, disjoint segments, each with the indicators covering
//! it; an address is looked up by binary search, whatever the number of indicators.

/// Sorted disjoint segments over one address family (`u32` or `u128`).
#[derive(Debug, Clone, Default)]
pub struct RangeIndex<T> {
    /// Segment starts, ascending.
    starts: Vec<T>,
    /// Segment ends (inclusive).
    ends: Vec<T>,
    /// Per segment: its indicators, `ids[at..at + len]`.
    spans: Vec<(u32, u32)>,
    ids: Vec<u32>,
    /// Per value of an address's top 16 bits `h`: how many segments start below `h << (bits -
    /// 16)` (with one more entry for the end), so that a lookup searches one bucket (empty for
    /// small indexes: the whole list is searched).
    buckets: Vec<u32>,
}

/// Segments from which a lookup goes through the top-16-bit buckets.
const BUCKETED: usize = 1024;

/// What the index needs of an address type.
pub trait Point: Copy + Ord + Default {
    /// The next address, `None` past the last.
    fn next(self) -> Option<Self>;
    /// The address before, `None` before the first.
    fn prev(self) -> Option<Self>;
    /// The top 16 bits.
    fn bucket(self) -> usize;
    /// The first address whose top 16 bits are `h`.
    fn bucket_start(h: usize) -> Self;
}

impl Point for u32 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
    fn bucket_start(h: usize) -> Self {
        (h as u32) << 16
    }
}

impl Point for u128 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
    fn bucket_start(h: usize) -> Self {
        (h as u128) << 112
    }
}

impl<T: Point> RangeIndex<T> {
    /// Builds the index of `(lo, hi, id)` ranges (bounds inclusive).
    pub fn build(mut ranges: Vec<(T, T, u32)>) -> RangeIndex<T> {
        let mut idx = RangeIndex {
            starts: Vec::new(),
            ends: Vec::new(),
            spans: Vec::new(),
            ids: Vec::new(),
            buckets: Vec::new(),
        };
        ranges.retain(|r| r.0 <= r.1);
        // Boundaries: every start, and every end's successor.
        let mut cuts: Vec<T> = ranges.iter().map(|r| r.0).collect();
        cuts.extend(ranges.iter().filter_map(|r| r.1.next()));
        cuts.sort_unstable();
        cuts.dedup();
        ranges.sort_unstable();
        // Sweep: `active` holds (end, id) of ranges covering the current segment.
        let mut active: std::collections::BinaryHeap<std::cmp::Reverse<(T, u32)>> =
            Default::default();
        let mut next_range = 0;
        for (i, &start) in cuts.iter().enumerate() {
            while let Some(std::cmp::Reverse((end, _))) = active.peek()
                && *end < start
            {
                active.pop();
            }
            while next_range < ranges.len() && ranges[next_range].0 == start {
                let (_, hi, id) = ranges[next_range];
                active.push(std::cmp::Reverse((hi, id)));
                next_range += 1;
            }
            if active.is_empty() {
                continue;
            }
            let end = match cuts.get(i + 1) {
                Some(&n) => n.prev().unwrap_or(start),
                None => active.iter().map(|r| r.0.0).max().unwrap_or(start),
            };
            let at = idx.ids.len() as u32;
            let mut here: Vec<u32> = active.iter().map(|r| r.0.1).collect();
            here.sort_unstable();
            here.dedup();
            idx.ids.extend(&here);
            idx.starts.push(start);
            idx.ends.push(end);
            idx.spans.push((at, here.len() as u32));
        }
        if idx.starts.len() >= BUCKETED {
            idx.buckets = (0..=1usize << 16)
                .map(|h| {
                    if h == 1 << 16 {
                        idx.starts.len() as u32
                    } else {
                        idx.starts.partition_point(|&s| s < T::bucket_start(h)) as u32
                    }
                })
                .collect();
        }
        idx
    }

    /// The indicators covering `addr` (empty when none).
    pub fn lookup(&self, addr: T) -> &[u32] {
        let i = match self.buckets.get(addr.bucket()..addr.bucket() + 2) {
            Some(&[lo, hi]) => {
                let (lo, hi) = (lo as usize, hi as usize);
                lo + self.starts[lo..hi].partition_point(|&s| s <= addr)
            }
            _ => self.starts.partition_point(|&s| s <= addr),
        };
        if i == 0 || self.ends[i - 1] < addr {
            return &[];
        }
        let (at, len) = self.spans[i - 1];
        &self.ids[at as usize..(at + len) as usize]
    }

    /// Number of segments.
    pub fn segments(&self) -> usize {
        self.starts.len()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        let t = std::mem::size_of::<T>();
        (self.starts.capacity() + self.ends.capacity()) * t
            + self.spans.capacity() * 8
            + (self.ids.capacity() + self.buckets.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indicators covering `a`, by looking at every range.
    fn naive(ranges: &[(u32, u32, u32)], a: u32) -> Vec<u32> {
        let mut v: Vec<u32> = ranges
            .iter()
            .filter(|r| r.0 <= a && a <= r.1)
            .map(|r| r.2)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn nested_overlapping_and_edge_ranges() {
        let ranges = vec![
            (0, u32::MAX, 0),        // 0.0.0.0/0
            (100, 199, 1),           // a /x
            (150, 150, 2),           // a /32 inside it
            (150, 150, 3),           // the same address twice
            (180, 260, 4),           // overlapping the end
            (u32::MAX, u32::MAX, 5), // the last address
            (0, 0, 6),               // the first
        ];
        let idx = RangeIndex::build(ranges.clone());
        for a in [
            0,
            1,
            99,
            100,
            149,
            150,
            151,
            179,
            180,
            199,
            200,
            260,
            261,
            u32::MAX - 1,
            u32::MAX,
        ] {
            assert_eq!(idx.lookup(a), naive(&ranges, a).as_slice(), "{a}");
        }
        let without_all: Vec<_> = ranges[1..].to_vec();
        let idx = RangeIndex::build(without_all.clone());
        for a in [0, 1, 99, 100, 150, 199, 200, 260, 261, u32::MAX] {
            assert_eq!(idx.lookup(a), naive(&without_all, a).as_slice(), "{a}");
        }
        let v6 = RangeIndex::build(vec![(0u128, u128::MAX, 0), (u128::MAX, u128::MAX, 1)]);
        assert_eq!(v6.lookup(u128::MAX), &[0, 1]);
        assert_eq!(v6.lookup(5), &[0]);
    }

    #[test]
    fn random_ranges_agree_with_a_scan() {
        let mut x = 88172645463325252u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as u32
        };
        let ranges: Vec<(u32, u32, u32)> = (0..300)
            .map(|i| {
                let a = rnd(5000);
                (a, a + rnd(200), i)
            })
            .collect();
        let idx = RangeIndex::build(ranges.clone());
        for a in 0..5300 {
            assert_eq!(idx.lookup(a), naive(&ranges, a).as_slice(), "{a}");
        }
        // Enough ranges for the bucketed lookup, spread over the whole space.
        let wide: Vec<(u32, u32, u32)> = (0..3000)
            .map(|i| {
                let a = rnd(u64::from(u32::MAX) - 70_000);
                (a, a + rnd(70_000), i)
            })
            .collect();
        let idx = RangeIndex::build(wide.clone());
        assert!(!idx.buckets.is_empty());
        for r in &wide {
            for a in [
                r.0.saturating_sub(1),
                r.0,
                r.0 + 1,
                r.1,
                r.1.saturating_add(1),
            ] {
                assert_eq!(idx.lookup(a), naive(&wide, a).as_slice(), "{a}");
            }
        }
        for a in [0, 1, u32::MAX] {
            assert_eq!(idx.lookup(a), naive(&wide, a).as_slice(), "{a}");
        }
    }
}
