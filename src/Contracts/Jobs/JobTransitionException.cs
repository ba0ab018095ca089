namespace Plateau.Contracts.Jobs;

/// <summary>The operation is not allowed in the job's current phase (gRPC FAILED_PRECONDITION).</summary>
[GenerateSerializer, Alias("plateau.JobTransitionException")]
public sealed class JobTransitionException : Exception
{
    public JobTransitionException() { }

    public JobTransitionException(string message) : base(message) { }

    public JobTransitionException(string message, Exception innerException) : base(message, innerException) { }

    public JobTransitionException(string jobId, JobPhase phase, string operation)
        : base($"job {jobId} is {phase}: cannot {operation}")
    {
        JobId = jobId;
        Phase = phase;
    }

    [Id(0)] public string JobId { get; init; } = "";
    [Id(1)] public JobPhase Phase { get; init; }
}
