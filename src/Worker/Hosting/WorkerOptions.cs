namespace Plateau.Worker.Hosting;

/// <summary>Configuration section <c>Plateau:Worker</c>.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "Plateau:Worker";

    /// <summary>Stable id of this worker process ("worker-0"; the pod name in Kubernetes). No '/'.</summary>
    public string WorkerId { get; set; } = "";

    /// <summary>The one job this worker offers its devices to; empty (the default): the worker is pooled and serves
    /// whichever job the coordinator's worker pool hands it, one after another (docs/worker.md, "Pooled workers").</summary>
    public string JobId { get; set; } = "";

    /// <summary>A pooled worker: seconds between its offers to the pool while idle, and between its lease renewals
    /// while serving a job (keep well under the coordinator's <c>Plateau:Coordinator:WorkerPoolLeaseSeconds</c>).</summary>
    public double PoolPollSeconds { get; set; } = 2;

    /// <summary>Devices (ranks) this worker drives: GPUs, or CPU "devices" that share the cores.</summary>
    public int Devices { get; set; } = 1;

    /// <summary>"auto" (CUDA when present, else CPU), "cpu" or "cuda".</summary>
    public string DeviceKind { get; set; } = "auto";

    /// <summary>libtorch intra-op threads of the process; 0: the cores divided by <see cref="Devices"/>.</summary>
    public int Threads { get; set; }

    /// <summary>Data loader decode threads per device.</summary>
    public int DecodeThreads { get; set; } = 1;

    /// <summary>Address the collective (gRPC) endpoints listen on.</summary>
    public string DataPlaneListenHost { get; set; } = "127.0.0.1";

    /// <summary>Host name or IP peers dial; defaults to the listen host (or the machine name when listening on all addresses).</summary>
    public string? DataPlaneAdvertisedHost { get; set; }

    /// <summary>Port of device 0's collective endpoint; device i listens on this + i. 0: any free consecutive ports.</summary>
    public int DataPlanePort { get; set; }

    /// <summary>Pass gradient payloads to peers on this host through /dev/shm instead of loopback TCP (headers stay on TCP).</summary>
    public bool DataPlaneSharedMemory { get; set; } = true;

    /// <summary>
    /// Start each gradient bucket's all-reduce while backward still runs on the earlier layers, as PyTorch DDP does
    /// (docs/worker.md, "Overlapping the all-reduce with backward"). The weights are bit-identical either way; only
    /// the timing changes. A value other than true or false is refused when the configuration is bound.
    /// </summary>
    public bool OverlapGradientReduction { get; set; }

    /// <summary>
    /// PFX/PKCS#12 certificate the collective endpoints serve TLS with; empty: h2c without TLS. The Hello/Welcome
    /// handshake is HMAC-authenticated either way; TLS also hides the traffic. With TLS the gradient bytes move
    /// on the TLS HTTP/2 stream instead of the raw-socket fast path (docs/collective.md).
    /// </summary>
    public string? DataPlaneCertificatePath { get; set; }

    /// <summary>Password of <see cref="DataPlaneCertificatePath"/>, if any.</summary>
    public string? DataPlaneCertificatePassword { get; set; }

    /// <summary>
    /// PEM/DER certificate (or CA) the peers' collective certificates must equal or chain to; empty: the
    /// system trust store.
    /// </summary>
    public string? DataPlaneTrustedCertificatePath { get; set; }

    /// <summary>
    /// The data plane's liveness deadline, in seconds: a peer whose connection carries nothing (no data,
    /// no answer to a PING) for this long is declared dead. A killed peer or a reset connection is seen at
    /// once regardless; this is only for a frozen host or a partition, and is long enough that a peer
    /// starved of CPU is not mistaken for a dead one (docs/collective.md, "Failure behaviour").
    /// </summary>
    public double DataPlanePeerTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds between progress reports (also the liveness signal).</summary>
    public double ProgressIntervalSeconds { get; set; } = 2;

    /// <summary>Seconds to wait for the job to exist and accept the registration.</summary>
    public double JoinTimeoutSeconds { get; set; } = 120;

    /// <summary>Trace the first collective operation of a group and one every N after it (a <c>plateau.collective</c>
    /// span under the epoch's span); 0: none (docs/telemetry.md).</summary>
    public int CollectiveTraceEveryNthOperation { get; set; } = Plateau.Collective.RingOptions.DefaultTraceEveryNthOperation;

    /// <summary>Deadline of one collective operation, in seconds.</summary>
    public double CollectiveTimeoutSeconds { get; set; } = 120;

    /// <summary>Port of /health and /alive (HTTP/1.1, on <see cref="DataPlaneListenHost"/>); 0: not served (the embedded default).</summary>
    public int HealthPort { get; set; }

    /// <summary>
    /// The coordinator's gRPC API (http:// or https://, e.g. http://plateau-coordinator:5100) when this worker
    /// does not share the coordinator's checkpoint store: rank 0 uploads each checkpoint through its
    /// CheckpointTransfer service and downloads the one to restore. Empty: the store is shared (one machine,
    /// or one volume mounted at the same path), and the worker writes and reads the coordinator's paths.
    /// </summary>
    public string? CheckpointTransferAddress { get; set; }

    /// <summary>With <see cref="JobId"/> set: stop the process once the job is Completed, Failed or Cancelled. A pooled
    /// worker never exits when a job ends; it goes back to the pool.</summary>
    public bool ExitWhenJobEnds { get; set; } = true;
}
