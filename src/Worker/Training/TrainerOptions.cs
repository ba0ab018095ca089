namespace Plateau.Worker.Training;

/// <summary>How a rank's trainer paces itself and how long it waits for anything (every wait has a deadline).</summary>
public sealed record TrainerOptions
{
    /// <summary>How often progress (and liveness) goes to the job.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Deadline of one call to the job (plans, reports, checkpoints).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a rank waits for the next epoch's plan (the slowest rank's evaluation included).</summary>
    public TimeSpan PlanTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>While the next plan is pending the coordinator says when it is ready (<c>EpochReady</c>); a rank asks
    /// again on its own only after this long without word, in case that notice was lost.</summary>
    public TimeSpan PlanRecheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Joining the ring: neighbours must connect within this.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Deadline of one collective operation (a dead peer is found sooner by HTTP/2 PINGs).</summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>A <c>plateau.collective</c> span for the first collective operation and one every N after it; 0: none.</summary>
    public int CollectiveTraceEveryNthOperation { get; init; } = Plateau.Collective.RingOptions.DefaultTraceEveryNthOperation;

    /// <summary>After a stop request, how long the ranks get to agree on a common last step before the trainer is cancelled.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Decode threads of the data loader of each rank.</summary>
    public int DecodeThreads { get; init; } = 1;

    public bool SharedMemory { get; init; } = true;

    /// <summary>Certificate the peers' TLS collective endpoints must equal or chain to (Plateau:Worker:DataPlaneTrustedCertificatePath); null: the system store.</summary>
    public string? TrustedCertificatePath { get; init; }

    /// <summary>Validation batch size (per rank).</summary>
    public int EvalBatchSize { get; init; } = 200;

    /// <summary>Gradient bucket cap (DDP's bucket_cap_mb).</summary>
    public long BucketCapBytes { get; init; } = Plateau.Collective.Buckets.BucketAssignment.DefaultBucketCapBytes;

    /// <summary>All-reduce each gradient bucket while backward still runs (DDP's overlap; <see cref="BackwardProbes"/>).
    /// Bit-identical to reducing after backward; Plateau:Worker:OverlapGradientReduction.</summary>
    public bool OverlapGradientReduction { get; init; }
}
