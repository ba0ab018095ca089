namespace Plateau.Coordinator.Checkpoints;

/// <summary>What the store holds of one upload: <see cref="SealedSha256"/> set means complete (sealed, of
/// <see cref="Bytes"/> bytes); otherwise the bytes an interrupted upload left, and whether a stream is still
/// writing them.</summary>
public sealed record UploadProgress(long Bytes, bool InProgress, string? SealedSha256);
