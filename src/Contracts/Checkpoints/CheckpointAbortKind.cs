namespace Plateau.Contracts.Checkpoints;

/// <summary>Why a begun checkpoint is abandoned.</summary>
[GenerateSerializer]
public enum CheckpointAbortKind
{
    /// <summary>The writer could not write, upload or commit it.</summary>
    Failed = 0,

    /// <summary>A newer checkpoint was taken while this one waited behind an upload in flight (coalescing).</summary>
    Superseded = 1,
}
