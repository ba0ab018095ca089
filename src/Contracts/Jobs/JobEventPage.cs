namespace Plateau.Contracts.Jobs;

/// <summary>Events after a sequence number; <see cref="LastSequence"/> is where the next page starts.
/// <see cref="Summary"/> is the job as of this page.</summary>
[GenerateSerializer, Immutable, Alias("plateau.JobEventPage")]
public sealed record JobEventPage(
    [property: Id(0)] IReadOnlyList<JobEvent> Events,
    [property: Id(1)] long LastSequence,
    [property: Id(2)] JobSummary? Summary);
