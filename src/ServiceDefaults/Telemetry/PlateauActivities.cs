using System.Diagnostics;

namespace Plateau.ServiceDefaults.Telemetry;

/// <summary>
/// The <c>Plateau</c> activity source and the names of the spans Plateau's own code starts: job phase
/// changes and API calls on the coordinator; epoch, evaluation and checkpoint (write, commit) on each rank.
/// </summary>
public static class PlateauActivities
{
    public const string SourceName = "Plateau";

    public const string Epoch = "plateau.epoch";
    public const string EpochPlan = "plateau.epoch.plan";
    public const string Evaluate = "plateau.evaluate";
    public const string Checkpoint = "plateau.checkpoint";
    public const string CheckpointWrite = "plateau.checkpoint.write";
    public const string CheckpointUpload = "plateau.checkpoint.upload";
    public const string CheckpointCommit = "plateau.checkpoint.commit";
    public const string JobPhase = "plateau.job.phase";
    public const string Job = "plateau.job";
    public const string Rendezvous = "plateau.rendezvous";
    public const string ApiCall = "plateau.api";

    public static readonly ActivitySource Source = new(SourceName, "1.0");
}
