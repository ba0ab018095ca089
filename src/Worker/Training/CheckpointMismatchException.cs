namespace Plateau.Worker.Training;

/// <summary>A checkpoint file's bytes are not the committed ones (size or SHA-256 differ from the registry):
/// the file is corrupt, and the job should drop it rather than retry it.</summary>
public sealed class CheckpointMismatchException : IOException
{
    public CheckpointMismatchException() { }

    public CheckpointMismatchException(string message) : base(message) => Problem = message;

    public CheckpointMismatchException(string message, Exception innerException) : base(message, innerException) => Problem = message;

    public CheckpointMismatchException(string path, string problem) : base($"checkpoint {path} {problem}") => Problem = problem;

    /// <summary>What does not match, without the local path (e.g. "has SHA-256 …, the registry says …").</summary>
    public string Problem { get; } = "";
}
