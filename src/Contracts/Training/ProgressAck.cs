namespace Plateau.Contracts.Training;

/// <summary>The coordinator's answer to progress: a worker that missed a push learns here what to do.</summary>
[GenerateSerializer, Immutable, Alias("plateau.ProgressAck")]
public sealed record ProgressAck(
    [property: Id(0)] WorkerDirective Directive,
    [property: Id(1)] string Message);
