namespace Plateau.Coordinator.Configuration;

/// <summary>Configuration section <c>Plateau:Coordinator</c>.</summary>
public sealed class CoordinatorOptions
{
    public const string SectionName = "Plateau:Coordinator";

    /// <summary>Port of the gRPC JobService (HTTP/2 without TLS).</summary>
    public int GrpcPort { get; set; } = 5100;

    /// <summary>Port of /health and /alive (HTTP/1.1); 0 disables them.</summary>
    public int HealthPort { get; set; } = 5101;

    /// <summary>Address Kestrel listens on: "loopback" (embedded default) or "any" (containers).</summary>
    public string ListenAddress { get; set; } = "loopback";

    /// <summary>Folder of the durable grain state (file storage) with Plateau:Cluster:Provider=Localhost; refused with AdoNet (PostgreSQL).</summary>
    public string StateDirectory { get; set; } = ".plateau/state";

    /// <summary>After minWorkers joined, how long to wait for more (up to maxWorkers) before forming the group.</summary>
    public double RendezvousGraceSeconds { get; set; } = 2;

    /// <summary>A rank that sends no progress for this long is declared failed.</summary>
    public double WorkerLivenessTimeoutSeconds { get; set; } = 60;

    /// <summary>How long one push (StartTraining, Pause, Stop) to a WorkerGrain may take.</summary>
    public double WorkerCallTimeoutSeconds { get; set; } = 10;

    /// <summary>How long the worker pool counts a pooled worker against the job it was handed without hearing from it
    /// (a serving pooled worker renews its lease every <c>Plateau:Worker:PoolPollSeconds</c>).</summary>
    public double WorkerPoolLeaseSeconds { get; set; } = 30;

    /// <summary>How often WatchJob looks for new events.</summary>
    public int WatchPollMilliseconds { get; set; } = 500;

    /// <summary>Model names the Plateau.Models registry knows; empty: names are not checked here.</summary>
    public List<string> KnownModels { get; set; } = [];
}
