using Plateau.Contracts.Errors;

namespace Plateau.Contracts.Jobs;

/// <summary>
/// A submission collides with what exists (gRPC ALREADY_EXISTS): a job id that is taken, or a client
/// request id that was used before with a different spec.
/// </summary>
[GenerateSerializer, Alias("plateau.JobAlreadyExistsException")]
public sealed class JobAlreadyExistsException : Exception
{
    public JobAlreadyExistsException() { }

    public JobAlreadyExistsException(string message) : base(message) { }

    public JobAlreadyExistsException(string message, Exception innerException) : base(message, innerException) { }

    public JobAlreadyExistsException(string jobId, string message) : base(message) => JobId = jobId;

    /// <summary>The job that exists.</summary>
    [Id(0)] public string JobId { get; init; } = "";

    /// <summary>A job id that is taken.</summary>
    public static JobAlreadyExistsException ForJobId(string jobId) =>
        new(jobId, $"job {Quote.Value(jobId)} already exists");
}
