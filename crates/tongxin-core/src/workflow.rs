//! Case workflows as data: the states a case of one type passes through, the transitions
//! between them, and who may take each.
//!
//! A workflow is stored as JSON beside its case type, so a top administrator can adjust it;
//! [`Workflow::check`] refuses one with a state nothing leads to, a state with no way out, or no
//! end. What a transition *does* beyond moving the state (assigning a handler, recording an
//! answer or a rating) is one of a fixed set of [`Effect`]s the code knows.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Where the actor stands relative to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// Who submitted it (the member, or the staff who entered it on their behalf).
    Submitter,
    /// Staff of the unit that received it.
    Receiving,
    /// Staff of the unit handling it (or of the receiving unit, for an outside department).
    Handling,
    /// Staff of a unit above the receiving or the handling unit.
    Above,
}

impl Party {
    pub const ALL: [Party; 4] = [
        Party::Submitter,
        Party::Receiving,
        Party::Handling,
        Party::Above,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Party::Submitter => "submitter",
            Party::Receiving => "receiving",
            Party::Handling => "handling",
            Party::Above => "above",
        }
    }
}

/// What a transition does besides moving the state, and what it asks of the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Nothing more; a comment is optional.
    #[default]
    None,
    /// Sent back to the submitter: a reason is required.
    Return,
    /// Folded into another open case of the same type, named by the actor.
    Merge,
    /// Given to a handling unit or an outside department, with a due date.
    Assign,
    /// The handler's answer, shown to the submitter: its text is required.
    Answer,
    /// The submitter's rating of the answer.
    Rate,
    /// Handling starts again, once, after the submitter was not satisfied.
    Reopen,
    /// The handler commits to a rectification plan: the case must have plan steps.
    Plan,
    /// The supervising side confirms the rectification: every plan step must be checked and
    /// accepted.
    Verify,
}

/// One state of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Stable code (`submitted`); shown through the translation `case.state.<code>` when one
    /// exists, as the name below otherwise.
    pub code: String,
    /// The name shown for a state the translations do not know (one an administrator added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A case here is finished (closed, returned, merged).
    #[serde(default)]
    pub end: bool,
}

/// A move from some states to one, taken by some parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Stable code of the action (`accept`), shown through `case.action.<code>`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub from: Vec<String>,
    pub to: String,
    pub by: Vec<Party>,
    #[serde(default)]
    pub effect: Effect,
}

/// The states and transitions of one case type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// Where a new case starts.
    pub start: String,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
}

/// Why a workflow cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowFault {
    #[error("the workflow has no states")]
    NoStates,
    #[error("state {0} is defined twice")]
    RepeatedState(String),
    #[error("the start state {0} is not defined")]
    UnknownStart(String),
    #[error("transition {action} names state {state}, which is not defined")]
    UnknownState { action: String, state: String },
    #[error("transition {0} may be taken by nobody")]
    NobodyMayTake(String),
    #[error("action {action} leaves state {state} twice")]
    RepeatedAction { action: String, state: String },
    #[error("no state ends a case")]
    NoEnd,
    #[error("state {0} cannot be reached from the start")]
    Unreachable(String),
    #[error("a case in state {0} can never end")]
    NeverEnds(String),
}

impl WorkflowFault {
    /// The message key of this fault (`invalid.<key>`).
    pub fn key(&self) -> &'static str {
        match self {
            WorkflowFault::NoStates => "workflow_no_states",
            WorkflowFault::RepeatedState(_) => "workflow_repeated_state",
            WorkflowFault::UnknownStart(_) => "workflow_unknown_start",
            WorkflowFault::UnknownState { .. } => "workflow_unknown_state",
            WorkflowFault::NobodyMayTake(_) => "workflow_nobody_may_take",
            WorkflowFault::RepeatedAction { .. } => "workflow_repeated_action",
            WorkflowFault::NoEnd => "workflow_no_end",
            WorkflowFault::Unreachable(_) => "workflow_unreachable",
            WorkflowFault::NeverEnds(_) => "workflow_never_ends",
        }
    }

    /// The state or action the fault names.
    pub fn subject(&self) -> String {
        match self {
            WorkflowFault::NoStates | WorkflowFault::NoEnd => String::new(),
            WorkflowFault::RepeatedState(s)
            | WorkflowFault::UnknownStart(s)
            | WorkflowFault::NobodyMayTake(s)
            | WorkflowFault::Unreachable(s)
            | WorkflowFault::NeverEnds(s) => s.clone(),
            WorkflowFault::UnknownState { action, state } => format!("{action} → {state}"),
            WorkflowFault::RepeatedAction { action, state } => format!("{state} → {action}"),
        }
    }

    /// The refusal of a workflow with this fault.
    pub fn invalid(&self) -> crate::Invalid {
        crate::Invalid::new(
            crate::Field::Named("workflow"),
            crate::Reason::Workflow {
                fault: self.key(),
                detail: self.subject(),
            },
        )
    }
}

impl Workflow {
    /// Checks the workflow can carry cases: every state named is defined, every state is
    /// reachable from the start, and from every state some end can be reached.
    pub fn check(&self) -> Result<(), WorkflowFault> {
        if self.states.is_empty() {
            return Err(WorkflowFault::NoStates);
        }
        let mut codes = BTreeSet::new();
        for state in &self.states {
            if !codes.insert(state.code.as_str()) {
                return Err(WorkflowFault::RepeatedState(state.code.clone()));
            }
        }
        if !codes.contains(self.start.as_str()) {
            return Err(WorkflowFault::UnknownStart(self.start.clone()));
        }
        let mut leaving = BTreeSet::new();
        for t in &self.transitions {
            for state in t.from.iter().chain(std::iter::once(&t.to)) {
                if !codes.contains(state.as_str()) {
                    return Err(WorkflowFault::UnknownState {
                        action: t.action.clone(),
                        state: state.clone(),
                    });
                }
            }
            if t.by.is_empty() {
                return Err(WorkflowFault::NobodyMayTake(t.action.clone()));
            }
            for from in &t.from {
                if !leaving.insert((from.as_str(), t.action.as_str())) {
                    return Err(WorkflowFault::RepeatedAction {
                        action: t.action.clone(),
                        state: from.clone(),
                    });
                }
            }
        }
        if !self.states.iter().any(|s| s.end) {
            return Err(WorkflowFault::NoEnd);
        }
        let forward = self.edges(false);
        let reached = reach(&forward, [self.start.as_str()]);
        if let Some(lost) = self
            .states
            .iter()
            .find(|s| !reached.contains(s.code.as_str()))
        {
            return Err(WorkflowFault::Unreachable(lost.code.clone()));
        }
        let backward = self.edges(true);
        let ending = reach(
            &backward,
            self.states
                .iter()
                .filter(|s| s.end)
                .map(|s| s.code.as_str()),
        );
        if let Some(stuck) = self
            .states
            .iter()
            .find(|s| !ending.contains(s.code.as_str()))
        {
            return Err(WorkflowFault::NeverEnds(stuck.code.clone()));
        }
        Ok(())
    }

    /// State → the states one transition leads to (or, `reversed`, comes from).
    fn edges(&self, reversed: bool) -> HashMap<&str, Vec<&str>> {
        let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in &self.transitions {
            for from in &t.from {
                let (a, b) = if reversed {
                    (t.to.as_str(), from.as_str())
                } else {
                    (from.as_str(), t.to.as_str())
                };
                edges.entry(a).or_default().push(b);
            }
        }
        edges
    }

    pub fn state(&self, code: &str) -> Option<&State> {
        self.states.iter().find(|s| s.code == code)
    }

    /// Whether `code` is an end state.
    pub fn is_end(&self, code: &str) -> bool {
        self.state(code).is_some_and(|s| s.end)
    }

    /// The transitions leaving `state` that someone standing as any of `parties` may take.
    pub fn open_to<'a>(
        &'a self,
        state: &'a str,
        parties: &'a [Party],
    ) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions.iter().filter(move |t| {
            t.from.iter().any(|f| f == state) && t.by.iter().any(|p| parties.contains(p))
        })
    }
}

fn reach<'a>(
    edges: &HashMap<&'a str, Vec<&'a str>>,
    from: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = from.into_iter().collect();
    while let Some(state) = queue.pop_front() {
        if seen.insert(state) {
            queue.extend(edges.get(state).into_iter().flatten().copied());
        }
    }
    seen
}

/// The submitter's rating of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    Basically,
    NotSatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::Satisfied,
        Satisfaction::Basically,
        Satisfaction::NotSatisfied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Basically => "basically",
            Satisfaction::NotSatisfied => "not_satisfied",
        }
    }

    pub fn parse(text: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What became of a case beyond its answer: the endorsements counted per unit and sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// 批示: a leader's written instruction on it, at some level.
    Instruction,
    /// 采纳: adopted into a policy or a decision.
    Adoption,
    /// 刊发: published in a bulletin.
    Bulletin,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Instruction, Outcome::Adoption, Outcome::Bulletin];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Instruction => "instruction",
            Outcome::Adoption => "adoption",
            Outcome::Bulletin => "bulletin",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// The level of the leader who wrote an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstructionLevel {
    County,
    City,
    Region,
    National,
}

impl InstructionLevel {
    pub const ALL: [InstructionLevel; 4] = [
        InstructionLevel::County,
        InstructionLevel::City,
        InstructionLevel::Region,
        InstructionLevel::National,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstructionLevel::County => "county",
            InstructionLevel::City => "city",
            InstructionLevel::Region => "region",
            InstructionLevel::National => "national",
        }
    }

    pub fn parse(text: &str) -> Option<InstructionLevel> {
        InstructionLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == text)
    }
}

/// The kinds of case, each with its own default workflow and handling time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaseType {
    /// 建言献策: a suggestion.
    Suggestion,
    /// 社情民意: a public-opinion report.
    Opinion,
    /// 调研成果: a research report, often on a published topic.
    Research,
    /// 党外人士直通车: a message straight to leadership.
    Direct,
    /// 民主监督: a supervision finding to rectify.
    Supervision,
}

impl CaseType {
    pub const ALL: [CaseType; 5] = [
        CaseType::Suggestion,
        CaseType::Opinion,
        CaseType::Research,
        CaseType::Direct,
        CaseType::Supervision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseType::Suggestion => "suggestion",
            CaseType::Opinion => "opinion",
            CaseType::Research => "research",
            CaseType::Direct => "direct",
            CaseType::Supervision => "supervision",
        }
    }

    pub fn parse(text: &str) -> Option<CaseType> {
        CaseType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Working days a handler has to answer, unless the assigner sets another due date.
    pub fn default_days(self) -> u32 {
        match self {
            CaseType::Suggestion => 15,
            CaseType::Opinion | CaseType::Direct => 10,
            CaseType::Research => 20,
            CaseType::Supervision => 30,
        }
    }

    /// The workflow a new database starts with for this type.
    pub fn default_workflow(self) -> Workflow {
        match self {
            CaseType::Supervision => supervision_workflow(),
            _ => answered_workflow(),
        }
    }
}

fn state(code: &str, end: bool) -> State {
    State {
        code: code.to_owned(),
        name: None,
        end,
    }
}

fn step(action: &str, from: &[&str], to: &str, by: &[Party], effect: Effect) -> Transition {
    Transition {
        action: action.to_owned(),
        name: None,
        from: from.iter().map(|s| (*s).to_owned()).collect(),
        to: to.to_owned(),
        by: by.to_vec(),
        effect,
    }
}

/// Submitted → accepted (or returned, or merged) → assigned → answered → rated by the submitter
/// (reopened once when not satisfied) → closed.
fn answered_workflow() -> Workflow {
    use Party::*;
    Workflow {
        start: "submitted".into(),
        states: vec![
            state("submitted", false),
            state("accepted", false),
            state("assigned", false),
            state("escalated", false),
            state("answered", false),
            state("rated", false),
            state("closed", true),
            state("returned", true),
            state("merged", true),
            state("withdrawn", true),
        ],
        transitions: vec![
            step(
                "accept",
                &["submitted"],
                "accepted",
                &[Receiving, Above],
                Effect::None,
            ),
            step(
                "return",
                &["submitted", "accepted"],
                "returned",
                &[Receiving, Above],
                Effect::Return,
            ),
            step(
                "merge",
                &["submitted", "accepted"],
                "merged",
                &[Receiving, Above],
                Effect::Merge,
            ),
            step(
                "withdraw",
                &["submitted"],
                "withdrawn",
                &[Submitter],
                Effect::None,
            ),
            step(
                "assign",
                &["accepted", "escalated"],
                "assigned",
                &[Receiving, Above],
                Effect::Assign,
            ),
            step(
                "reassign",
                &["assigned"],
                "assigned",
                &[Receiving, Above],
                Effect::Assign,
            ),
            step(
                "escalate",
                &["assigned"],
                "escalated",
                &[Handling],
                Effect::None,
            ),
            step(
                "answer",
                &["assigned"],
                "answered",
                &[Handling],
                Effect::Answer,
            ),
            step("rate", &["answered"], "rated", &[Submitter], Effect::Rate),
            step(
                "reopen",
                &["rated"],
                "assigned",
                &[Submitter, Receiving],
                Effect::Reopen,
            ),
            step(
                "close",
                &["answered", "rated"],
                "closed",
                &[Receiving, Above],
                Effect::None,
            ),
        ],
    }
}

/// A finding → the rectifying unit's plan → rectifying → completion reported → checked by the
/// supervising side (closed, or back to rectifying).
fn supervision_workflow() -> Workflow {
    use Party::*;
    Workflow {
        start: "submitted".into(),
        states: vec![
            state("submitted", false),
            state("assigned", false),
            state("planned", false),
            state("completed", false),
            state("closed", true),
            state("returned", true),
        ],
        transitions: vec![
            step(
                "assign",
                &["submitted"],
                "assigned",
                &[Receiving, Above],
                Effect::Assign,
            ),
            step(
                "return",
                &["submitted"],
                "returned",
                &[Receiving, Above],
                Effect::Return,
            ),
            step("plan", &["assigned"], "planned", &[Handling], Effect::Plan),
            step(
                "complete",
                &["planned"],
                "completed",
                &[Handling],
                Effect::Answer,
            ),
            step(
                "verify",
                &["completed"],
                "closed",
                &[Receiving, Above],
                Effect::Verify,
            ),
            step(
                "reject_completion",
                &["completed"],
                "planned",
                &[Receiving, Above],
                Effect::None,
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_workflows_are_sound() {
        for t in CaseType::ALL {
            assert_eq!(t.default_workflow().check(), Ok(()), "{t:?}");
            assert_eq!(CaseType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn unsound_workflows_are_named() {
        let base = answered_workflow();
        let mut lost = base.clone();
        lost.states.push(state("limbo", false));
        assert_eq!(
            lost.check(),
            Err(WorkflowFault::Unreachable("limbo".into()))
        );
        let mut endless = base.clone();
        for s in &mut endless.states {
            s.end = false;
        }
        assert_eq!(endless.check(), Err(WorkflowFault::NoEnd));
        let mut stuck = base.clone();
        stuck.transitions.retain(|t| t.action != "close");
        stuck.states.retain(|s| s.code != "closed");
        assert_eq!(
            stuck.check(),
            Err(WorkflowFault::NeverEnds("assigned".into()))
        );
        let mut unknown = base.clone();
        unknown.transitions[0].to = "nowhere".into();
        assert!(matches!(
            unknown.check(),
            Err(WorkflowFault::UnknownState { .. })
        ));
        let mut nobody = base;
        nobody.transitions[0].by.clear();
        assert_eq!(
            nobody.check(),
            Err(WorkflowFault::NobodyMayTake("accept".into()))
        );
    }

    #[test]
    fn parties_see_their_own_transitions() {
        let w = answered_workflow();
        let actions = |state: &str, parties: &[Party]| -> Vec<String> {
            w.open_to(state, parties)
                .map(|t| t.action.clone())
                .collect()
        };
        assert_eq!(
            actions("submitted", &[Party::Receiving]),
            ["accept", "return", "merge"]
        );
        assert_eq!(actions("submitted", &[Party::Submitter]), ["withdraw"]);
        assert_eq!(
            actions("assigned", &[Party::Handling]),
            ["escalate", "answer"]
        );
        assert!(actions("closed", &Party::ALL).is_empty());
    }
}
