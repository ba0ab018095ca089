namespace Plateau.Contracts.Jobs;

/// <summary>An operator changed the plateau schedule.</summary>
[GenerateSerializer, Immutable, Alias("plateau.ScheduleUpdatedDetail")]
public sealed record ScheduleUpdatedDetail([property: Id(0)] ScheduleUpdate Update) : JobEventDetail;
