//! What a client can do, as the explorer generates it: symbolic operations
//! whose targets (`Pick`) are resolved when the operation runs, against the
//! resources the case holds then. A shrunk sequence therefore stays
//! meaningful: dropping a create makes later picks land on another resource
//! or on none, never on an id that does not exist.

/// An index into the resources that fit, taken modulo their number.
pub type Pick = u8;

/// A user as a create sends it. Optional parts are sent only when the
/// target declares the attribute.
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub tail: String,
    pub display: Option<String>,
    pub given: String,
    pub family: String,
    pub email: Option<String>,
    /// A second address, of type `home`.
    pub home_email: Option<String>,
    pub title: Option<String>,
    pub employee_number: Option<String>,
    pub external_id: bool,
    pub active: bool,
    pub password: bool,
}

/// The letter case of PATCH operation names: Entra without the
/// `aadOptscim062020` flag capitalises them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCase {
    Lower,
    Entra,
}

/// One operation of a PATCH request (RFC 7644 3.5.2).
#[derive(Debug, Clone)]
pub enum PatchOp {
    /// `replace` `active` with a boolean, or (Entra's default) the string
    /// "True"/"False".
    Active { value: bool, as_string: bool },
    /// `replace` with no path: `{"active": v}` (Okta's deactivation).
    ActiveNoPath(bool),
    /// `replace` `displayName`.
    DisplayName(String),
    /// `replace` `name.givenName`.
    GivenName(String),
    /// `replace` `title`.
    Title(String),
    /// `replace` the enterprise `employeeNumber`, by its URN-prefixed path.
    EmployeeNumber(String),
    /// `replace` `emails[type eq "work"].value`.
    WorkEmail(String),
    /// `add` an email of type `other` to `emails`.
    AddEmail(String),
    /// `remove` `emails[type eq "work"]`.
    RemoveWorkEmail,
    /// `remove` `title`.
    RemoveTitle,
    /// `replace` the enterprise `manager` with the picked user's id as a
    /// bare string, as Entra sends it.
    Manager(Pick),
    /// `replace` `id`, which is readOnly: the request must fail as a whole
    /// (RFC 7644 3.5.2: "the entire PATCH ... MUST be applied atomically").
    Invalid,
}

/// A change to a group's members, as the clients send them.
#[derive(Debug, Clone)]
pub enum MemberChange {
    Add(Vec<Pick>),
    /// `remove` `members[value eq "id"]`.
    RemoveOne(Pick),
    /// Entra's legacy form: `remove` `members` with a value list.
    RemoveListed(Vec<Pick>),
    /// `replace` the group's `displayName`.
    Rename(String),
}

/// One leaf of a generated filter, filled in from the picked user's values
/// when the operation runs.
#[derive(Debug, Clone)]
pub enum Leaf {
    UserName {
        pick: Pick,
        other_case: bool,
    },
    ExternalId(Pick),
    EmailValue {
        pick: Pick,
        start: u8,
        len: u8,
    },
    WorkEmail {
        pick: Pick,
        start: u8,
        len: u8,
    },
    FamilySw {
        pick: Pick,
        len: u8,
    },
    UserNameEw {
        pick: Pick,
        len: u8,
    },
    DisplayNameCo {
        pick: Pick,
        start: u8,
        len: u8,
    },
    Active(bool),
    TitlePresent,
    /// A piece of the picked user's familyName with one character made a
    /// `.` (and, in turn, `co`, `sw` or `ew`): only a server that reads the
    /// value as a regular expression matches it where the text has no dot.
    Wildcard {
        pick: Pick,
        start: u8,
        len: u8,
    },
}

#[derive(Debug, Clone)]
pub enum Tree {
    Leaf(Leaf),
    And(Box<Tree>, Box<Tree>),
    Or(Box<Tree>, Box<Tree>),
    Not(Box<Tree>),
}

/// What a client does.
#[derive(Debug, Clone)]
pub enum Op {
    CreateUser(UserSpec),
    /// A create of a userName the case holds, in the other letter case: a
    /// conflict (RFC 7643 4.1.1 and 2.1; RFC 7644 3.3: 409).
    CreateDuplicate {
        of: Pick,
        other_case: bool,
    },
    CreateGroup {
        name: String,
        members: Vec<Pick>,
    },
    Get(Pick),
    GetGroup(Pick),
    /// A read of a resource the case deleted, or of an id nobody has.
    GetGone(Pick),
    Filter(Tree),
    GroupByName {
        pick: Pick,
        other_case: bool,
        exclude_members: bool,
    },
    /// A malformed filter: 400 invalidFilter (RFC 7644 3.4.2.2).
    BadFilter(u8),
    /// Every page of the users, `count` at a time.
    Walk {
        count: u8,
    },
    /// A page starting past the last user.
    PastEnd,
    /// GET by id or a list, with `attributes` or `excludedAttributes`.
    Project {
        pick: Pick,
        exclude: bool,
        list: bool,
        which: u8,
    },
    Sort {
        descending: bool,
    },
    Patch {
        pick: Pick,
        ops: Vec<PatchOp>,
        case: OpCase,
    },
    Members {
        pick: Pick,
        change: MemberChange,
        case: OpCase,
    },
    Put {
        pick: Pick,
        with: UserSpec,
    },
    Delete(Pick),
    DeleteGroup(Pick),
    /// Writes sent at once: member adds to one group, each with its own user.
    Burst {
        pick: Pick,
        members: Vec<Pick>,
    },
    /// PATCHes of one user sent at once, each of another attribute.
    PatchBurst {
        pick: Pick,
        ops: Vec<PatchOp>,
        case: OpCase,
    },
    /// Creates of one userName sent at once: exactly one may succeed.
    CreateRace {
        tail: String,
        copies: u8,
    },
    /// Time passes (10 ms), as between provisioning cycles: a server's
    /// clock moves on before the next write.
    Pause,
    /// A PATCH with an If-Match naming a version the resource had before
    /// its last change: 412 where ETags are offered (RFC 7644 3.14).
    StalePatch(Pick),
}
