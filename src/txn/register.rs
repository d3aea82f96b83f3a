//! rw-register inference (to come).

use super::explain::{DataWhy, Why};
use super::findings::Findings;
use super::ops::Txns;
use crate::graph::csr::Label;
use crate::history::History;

/// What inference learned about registers.
pub(crate) struct Registers;

impl Registers {
    pub(crate) fn infer(_history: &History, _txns: &Txns, findings: &mut Findings) -> Registers {
        findings.unknown("rw-register is not checked yet".to_string());
        Registers
    }
}

impl Why for Registers {
    fn why(&self, _a: u32, _b: u32, _label: Label) -> Option<DataWhy> {
        None
    }
}

impl super::anomaly::Inference for Registers {
    fn edges(&self) -> Vec<(u32, u32, Label)> {
        Vec::new()
    }
}
