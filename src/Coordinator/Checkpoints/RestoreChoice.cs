using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>The newest checkpoint that verified, and the newer ones that did not (with why).</summary>
public sealed record RestoreChoice(CheckpointRecord? Record, string? Path, IReadOnlyList<(CheckpointRecord Record, string Problem)> Rejected);
