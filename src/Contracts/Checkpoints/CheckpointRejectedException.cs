namespace Plateau.Contracts.Checkpoints;

/// <summary>A checkpoint upload failed verification (size or SHA-256) or is unknown; it was not committed.</summary>
[GenerateSerializer, Alias("plateau.CheckpointRejectedException")]
public sealed class CheckpointRejectedException : Exception
{
    public CheckpointRejectedException() { }

    public CheckpointRejectedException(string message) : base(message) { }

    public CheckpointRejectedException(string message, Exception innerException) : base(message, innerException) { }

    public CheckpointRejectedException(string checkpointId, string message) : base($"checkpoint {checkpointId}: {message}") =>
        CheckpointId = checkpointId;

    [Id(0)] public string CheckpointId { get; init; } = "";
}
