namespace Plateau.Coordinator.Checkpoints;

/// <summary>Configuration section <c>Plateau:Checkpoints</c>.</summary>
public sealed class CheckpointStoreOptions
{
    public const string SectionName = "Plateau:Checkpoints";

    /// <summary>Folder of the local directory backend: {root}/{job id}/{checkpoint id}.ckpt.</summary>
    public string RootDirectory { get; set; } = ".plateau/checkpoints";
}
