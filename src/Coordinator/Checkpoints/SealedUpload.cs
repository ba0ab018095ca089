namespace Plateau.Coordinator.Checkpoints;

/// <summary>What a received upload was sealed as: the size and SHA-256 of the bytes that arrived.</summary>
public sealed record SealedUpload(long SizeBytes, string Sha256);
