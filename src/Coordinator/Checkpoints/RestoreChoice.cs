using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>The newest checkpoint whose file is in place, and the newer ones whose file is not (with why).</summary>
public sealed record RestoreChoice(CheckpointRecord? Record, string? Path, IReadOnlyList<(CheckpointRecord Record, string Problem)> Rejected);
