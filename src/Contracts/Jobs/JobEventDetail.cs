using System.Text.Json.Serialization;

namespace Plateau.Contracts.Jobs;

/// <summary>The structured data of a job event; one derived record per kind of event (the proto's <c>oneof</c>).
/// The JSON discriminator keeps it readable where the state is stored as JSON (the file grain storage).</summary>
[GenerateSerializer, Immutable]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(PhaseChangeDetail), "phaseChange")]
[JsonDerivedType(typeof(MembershipDetail), "membership")]
[JsonDerivedType(typeof(EpochMetricsDetail), "epochMetrics")]
[JsonDerivedType(typeof(LrDecisionDetail), "lrDecision")]
[JsonDerivedType(typeof(CheckpointCommittedDetail), "checkpointCommitted")]
[JsonDerivedType(typeof(WarningDetail), "warning")]
[JsonDerivedType(typeof(FailureDetail), "failure")]
[JsonDerivedType(typeof(ScheduleUpdatedDetail), "scheduleUpdated")]
public abstract record JobEventDetail;
