namespace Plateau.Contracts.Jobs;

/// <summary>A message carried a generation that is not the job's current one (invariant 2). The
/// sender belongs to a group that no longer exists: stop and re-register.</summary>
[GenerateSerializer, Alias("plateau.StaleGenerationException")]
public sealed class StaleGenerationException : Exception
{
    public StaleGenerationException() { }

    public StaleGenerationException(string message) : base(message) { }

    public StaleGenerationException(string message, Exception innerException) : base(message, innerException) { }

    public StaleGenerationException(string jobId, long reported, long current, string operation)
        : base($"job {jobId}: {operation} carries generation {reported} but the current generation is {current}")
    {
        JobId = jobId;
        Reported = reported;
        Current = current;
    }

    [Id(0)] public string JobId { get; init; } = "";
    [Id(1)] public long Reported { get; init; }
    [Id(2)] public long Current { get; init; }
}
