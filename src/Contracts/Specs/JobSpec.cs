namespace Plateau.Contracts.Specs;

/// <summary>
/// A training job as the user writes it (YAML or JSON, <c>apiVersion: plateau/v1</c>). Defaults follow
/// the ResNet paper's ImageNet recipe (SGD, lr 0.1, momentum 0.9, weight decay 1e-4).
/// Load with <see cref="JobSpecLoader"/>, check with <see cref="JobSpecValidator"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.JobSpec")]
public sealed record JobSpec
{
    public const string CurrentApiVersion = "plateau/v1";

    [Id(0)] public string ApiVersion { get; init; } = CurrentApiVersion;

    /// <summary>Optional human name; the job id is chosen at submission.</summary>
    [Id(1)] public string? Name { get; init; }

    [Id(2)] public ModelSpec Model { get; init; } = new();

    [Id(3)] public DatasetSpec Dataset { get; init; } = new();

    /// <summary>Train for this many epochs. Exactly one of <see cref="Epochs"/> and <see cref="Iterations"/>.</summary>
    [Id(4)] public int? Epochs { get; init; }

    /// <summary>Train for this many optimizer steps (the CIFAR recipe stops at 64k).</summary>
    [Id(5)] public long? Iterations { get; init; }

    [Id(6)] public BatchSpec Batch { get; init; } = new();

    [Id(7)] public OptimizerSpec Optimizer { get; init; } = new();

    [Id(8)] public ScheduleSpec Schedule { get; init; } = new();

    [Id(9)] public EvaluationSpec Evaluation { get; init; } = new();

    [Id(10)] public WorkersSpec Workers { get; init; } = new();

    [Id(11)] public long Seed { get; init; } = 0;

    [Id(12)] public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>How many times the group may re-form after a failure before the job fails.</summary>
    [Id(13)] public int MaxRestarts { get; init; } = 3;

    [Id(14)] public CheckpointPolicySpec Checkpoint { get; init; } = new();

    /// <summary>
    /// A step whose averaged gradients hold NaN or ±Inf is skipped by every rank alike (no update, so
    /// the ranks never diverge); this many skipped in a row fail the job, keeping its last checkpoint.
    /// </summary>
    [Id(15)] public int MaxNonFiniteSteps { get; init; } = DefaultMaxNonFiniteSteps;

    /// <summary>How gradients travel between workers (compression).</summary>
    [Id(16)] public CommunicationSpec Communication { get; init; } = new();

    /// <summary>Default <see cref="MaxNonFiniteSteps"/>.</summary>
    public const int DefaultMaxNonFiniteSteps = 10;
}
