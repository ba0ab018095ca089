namespace Plateau.Coordinator.Checkpoints;

/// <summary>Another stream is still writing this upload (the broken call a retry replaces has not ended yet):
/// try again shortly. The transfer service answers ABORTED.</summary>
public sealed class UploadInProgressException : Exception
{
    public UploadInProgressException() { }

    public UploadInProgressException(string checkpointId) : base($"checkpoint {checkpointId}: an earlier upload stream is still being received; retry shortly") { }

    public UploadInProgressException(string message, Exception innerException) : base(message, innerException) { }
}
