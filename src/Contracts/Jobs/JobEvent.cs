namespace Plateau.Contracts.Jobs;

/// <summary>One entry of the job's event log, streamed by WatchJob. <see cref="Detail"/>, when present, carries
/// the event's data for programs (its type goes with <see cref="Kind"/>); <see cref="Message"/> is for people.</summary>
[GenerateSerializer, Immutable, Alias("plateau.JobEvent")]
public sealed record JobEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] JobEventKind Kind,
    [property: Id(3)] string Message,
    [property: Id(4)] JobPhase Phase,
    [property: Id(5)] long Generation,
    [property: Id(6)] JobEventDetail? Detail = null);
