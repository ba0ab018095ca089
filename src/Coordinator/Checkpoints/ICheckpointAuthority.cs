namespace Plateau.Coordinator.Checkpoints;

/// <summary>The JobGrain's answer to "may this caller move these checkpoint bytes?" (key: job id),
/// used by the CheckpointTransfer service. Null means yes; otherwise the reason.</summary>
[Alias("plateau.ICheckpointAuthority")]
public interface ICheckpointAuthority : IGrainWithStringKey
{
    [Alias("AuthorizeUpload")]
    Task<CheckpointAccessDecision> AuthorizeUpload(long generation, string checkpointId, string token);

    [Alias("AuthorizeDownload")]
    Task<CheckpointAccessDecision> AuthorizeDownload(long generation, string checkpointId, string token);
}
