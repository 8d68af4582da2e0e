//! The per-node occupancy view of `report.html`: how busy each node (or group of neighbouring
//! nodes) was in each slice of the run, a heat strip of at most [`MAX_ROWS`] × [`COLUMNS`] cells
//! however many nodes and jobs the run had. `pernode.json` keeps every job on every node, for
//! Perfetto; this is the glance.
//!
//! A job's interval on a node adds its overlap with each time slice to that slice: the two end
//! slices directly, the full slices between through a difference array, so one job costs O(1)
//! per node whatever its length.

/// Time slices across the run.
pub(crate) const COLUMNS: usize = 200;
/// More nodes than this are grouped, neighbours together, into this many rows or fewer.
pub(crate) const MAX_ROWS: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OccupancyGrid {
    nnodes: u32,
    nodes_per_row: u32,
    origin: f64,
    slice_seconds: f64,
    /// Busy node-seconds per cell (row-major), end slices of each interval.
    busy: Vec<f64>,
    /// Per row, `COLUMNS + 1` differences of node-seconds added to every full slice.
    full: Vec<f64>,
}

impl OccupancyGrid {
    /// A grid over `[start, end]` (epoch seconds) for `nnodes` nodes; `None` when the span or the
    /// system is empty.
    pub fn new(nnodes: u32, start: f64, end: f64) -> Option<Self> {
        if nnodes == 0 || end <= start {
            return None;
        }
        let nodes_per_row = nnodes.div_ceil(MAX_ROWS as u32);
        let rows = nnodes.div_ceil(nodes_per_row) as usize;
        Some(OccupancyGrid {
            nnodes,
            nodes_per_row,
            origin: start,
            slice_seconds: (end - start) / COLUMNS as f64,
            busy: vec![0.0; rows * COLUMNS],
            full: vec![0.0; rows * (COLUMNS + 1)],
        })
    }

    pub fn rows(&self) -> usize {
        self.busy.len() / COLUMNS
    }

    pub fn nnodes(&self) -> u32 {
        self.nnodes
    }

    /// The nodes of each row, as `(first, last)`.
    pub fn row_nodes(&self, row: usize) -> (u32, u32) {
        let first = row as u32 * self.nodes_per_row;
        (first, (first + self.nodes_per_row - 1).min(self.nnodes - 1))
    }

    /// Node `node` ran a job from `start` to `finish` (epoch seconds). The node must be below
    /// the system's size (the caller says where it came from when it is not).
    pub fn add(&mut self, node: u32, start: f64, finish: f64) {
        debug_assert!(node < self.nnodes);
        let row = (node / self.nodes_per_row) as usize;
        let last = COLUMNS - 1;
        // In slices since the start, clipped to the run.
        let at = |t: f64| ((t - self.origin) / self.slice_seconds).clamp(0.0, COLUMNS as f64);
        let (from, to) = (at(start), at(finish));
        if to <= from {
            return;
        }
        let (first_slice, last_slice) = ((from as usize).min(last), (to as usize).min(last));
        let cells = &mut self.busy[row * COLUMNS..(row + 1) * COLUMNS];
        if first_slice == last_slice {
            cells[first_slice] += (to - from) * self.slice_seconds;
            return;
        }
        cells[first_slice] += (first_slice as f64 + 1.0 - from) * self.slice_seconds;
        cells[last_slice] += (to - last_slice as f64) * self.slice_seconds;
        let full = &mut self.full[row * (COLUMNS + 1)..(row + 1) * (COLUMNS + 1)];
        full[first_slice + 1] += self.slice_seconds;
        full[last_slice] -= self.slice_seconds;
    }

    /// Each cell's busy share in percent (0–100), row-major; a node shared by jobs counts once.
    pub fn percent(&self) -> Vec<u8> {
        let mut levels = Vec::with_capacity(self.busy.len());
        for row in 0..self.rows() {
            let (first, last) = self.row_nodes(row);
            let capacity = f64::from(last - first + 1) * self.slice_seconds;
            let mut running = 0.0;
            for column in 0..COLUMNS {
                running += self.full[row * (COLUMNS + 1) + column];
                let share = (self.busy[row * COLUMNS + column] + running) / capacity;
                levels.push((share * 100.0).round().clamp(0.0, 100.0) as u8);
            }
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_busy_for_the_first_half_fills_half_its_row() {
        let mut grid = OccupancyGrid::new(2, 1000.0, 1200.0).unwrap();
        grid.add(1, 1000.0, 1100.0);
        let levels = grid.percent();
        assert_eq!(grid.rows(), 2);
        assert!(levels[..COLUMNS].iter().all(|&p| p == 0), "node 0 idle");
        assert!(levels[COLUMNS..COLUMNS + 100].iter().all(|&p| p == 100), "{:?}", &levels[COLUMNS..]);
        assert!(levels[COLUMNS + 100..].iter().all(|&p| p == 0));
    }

    #[test]
    fn partial_slices_get_their_share() {
        // Slices of 1 s; the job covers half of slice 2, slices 3 and 4, a quarter of slice 5.
        let mut grid = OccupancyGrid::new(1, 0.0, COLUMNS as f64).unwrap();
        grid.add(0, 2.5, 5.25);
        assert_eq!(&grid.percent()[..7], [0, 0, 50, 100, 100, 25, 0]);
        // Within one slice.
        let mut grid = OccupancyGrid::new(1, 0.0, COLUMNS as f64).unwrap();
        grid.add(0, 7.25, 7.5);
        assert_eq!(grid.percent()[7], 25);
    }

    #[test]
    fn many_nodes_are_grouped_into_at_most_max_rows() {
        let mut grid = OccupancyGrid::new(1000, 0.0, 10.0).unwrap();
        assert_eq!(grid.rows(), 63, "16 nodes a row");
        assert_eq!((grid.row_nodes(0), grid.row_nodes(62)), ((0, 15), (992, 999)));
        // All 8 nodes of the last row busy throughout; 8 of the 16 of the first.
        (992..1000).for_each(|node| grid.add(node, 0.0, 10.0));
        (0..8).for_each(|node| grid.add(node, -5.0, 50.0));
        let levels = grid.percent();
        assert!(levels[62 * COLUMNS..].iter().all(|&p| p == 100));
        assert!(levels[..COLUMNS].iter().all(|&p| p == 50), "clipped to the run: {:?}", &levels[..COLUMNS]);
    }

    #[test]
    fn an_empty_span_or_system_has_no_grid() {
        assert_eq!(OccupancyGrid::new(0, 0.0, 1.0), None);
        assert_eq!(OccupancyGrid::new(4, 5.0, 5.0), None);
    }
}
