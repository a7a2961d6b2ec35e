//! Registry operations: register a binary, create a deployment, promote it through the stages,
//! deploy another binary, roll back, retire. The rules of which move is allowed live here, so
//! that the server enforces them and the dashboard offers only the moves they allow.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::record::Ref;

/// A deployment's status, in the order a deployment moves through them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Development,
    Staging,
    Production,
    Retired,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Self::Development,
        Self::Staging,
        Self::Production,
        Self::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
            Self::Retired => "retired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The stage a promotion moves to: development to staging, staging to production.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Development => Some(Self::Staging),
            Self::Staging => Some(Self::Production),
            Self::Production | Self::Retired => None,
        }
    }

    /// Checks a promotion from `self` to `to`: one stage at a time, never out of production or
    /// retirement. The error says what to do instead.
    pub fn promote(self, to: Stage) -> Result<Stage, String> {
        let Some(next) = self.next() else {
            return Err(match self {
                Self::Retired => "a retired deployment cannot be promoted".into(),
                _ => "the deployment is already in production; there is no stage after it".into(),
            });
        };
        match to {
            to if to == next => Ok(next),
            to if to <= self => Err(format!(
                "a promotion moves forward: the deployment is in {self}, and {to} is not after it"
            )),
            Stage::Retired => {
                Err("retiring is not a promotion: retire the deployment instead".into())
            }
            to => Err(format!(
                "a promotion moves one stage at a time: from {self} the next is {next}, not {to}"
            )),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One registry operation, as the API takes it (`{"op": "promote", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// Registers a new binary of `model`, produced by `run` (a workflow run of that model).
    Register {
        model: Ref,
        binary: Ref,
        run: Ref,
        name: String,
        #[serde(default)]
        description: String,
    },
    /// Creates a deployment of `model` in development, serving `binary`.
    CreateDeployment {
        model: Ref,
        deployment: Ref,
        name: String,
        binary: Ref,
    },
    /// Moves a deployment to `to`, which must be its next stage. (Naming the stage makes a
    /// retried request safe: the second one is refused instead of promoting twice.) A gated
    /// stage (the catalog's gates) is refused unless the model source meets it or an admin
    /// overrides it with `override_reason`.
    Promote {
        deployment: Ref,
        to: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// Points a deployment at another binary of the same model (gated as a promotion into the
    /// deployment's status).
    Deploy {
        deployment: Ref,
        binary: Ref,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// Points a deployment back at the binary it served before the current one.
    Rollback { deployment: Ref },
    /// Retires a deployment: it serves no more traffic and leaves the metrics' production set.
    Retire { deployment: Ref },
}

impl Operation {
    /// The name the history gives this operation.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Register { .. } => "registered",
            Self::CreateDeployment { .. } => "deployment_created",
            Self::Promote { .. } => "promoted",
            Self::Deploy { .. } => "deployed",
            Self::Rollback { .. } => "rolled_back",
            Self::Retire { .. } => "retired",
        }
    }

    /// The admin's reason for letting this move past a gate, when one is given.
    pub fn override_reason(&self) -> Option<&str> {
        match self {
            Self::Promote {
                override_reason, ..
            }
            | Self::Deploy {
                override_reason, ..
            } => override_reason.as_deref(),
            _ => None,
        }
    }
}

/// What an operation did, and the deployment (or binary) after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    /// The id of the operation's row in the history.
    pub change: i64,
    pub op: String,
    /// One sentence for people: "promoted feed-prod from staging to production".
    pub summary: String,
    /// The model source, when the lineage names one.
    pub model: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Stage>,
    /// The binary the deployment serves now, or the binary registered.
    pub binary: Option<Ref>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_moves_one_stage_forward() {
        assert_eq!(
            Stage::Development.promote(Stage::Staging),
            Ok(Stage::Staging)
        );
        assert_eq!(
            Stage::Staging.promote(Stage::Production),
            Ok(Stage::Production)
        );
    }

    #[test]
    fn refused_promotions_say_why() {
        let skip = Stage::Development.promote(Stage::Production).unwrap_err();
        assert!(skip.contains("one stage at a time"), "{skip}");
        assert!(skip.contains("staging"), "{skip}");
        assert!(
            Stage::Production
                .promote(Stage::Production)
                .unwrap_err()
                .contains("already in production")
        );
        assert!(
            Stage::Retired
                .promote(Stage::Production)
                .unwrap_err()
                .contains("retired")
        );
        assert!(
            Stage::Staging
                .promote(Stage::Development)
                .unwrap_err()
                .contains("forward")
        );
        assert!(
            Stage::Staging
                .promote(Stage::Retired)
                .unwrap_err()
                .contains("retire the deployment")
        );
    }

    #[test]
    fn operations_read_as_the_api_sends_them() {
        let op: Operation = serde_json::from_str(
            r#"{"op":"promote","deployment":{"source":"deploy","id":"d"},"to":"staging"}"#,
        )
        .unwrap();
        assert_eq!(op.verb(), "promoted");
        assert!(
            serde_json::from_str::<Operation>(
                r#"{"op":"launch","deployment":{"source":"d","id":"x"}}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<Operation>(
                r#"{"op":"rollback","deployment":{"source":"d","id":"x"},"extra":1}"#
            )
            .is_err()
        );
    }
}
