using Plateau.Contracts.Errors;
namespace Plateau.Contracts.Jobs;

[GenerateSerializer, Alias("plateau.JobNotFoundException")]
public sealed class JobNotFoundException : Exception
{
    public JobNotFoundException() { }

    public JobNotFoundException(string jobId) : base($"job {Quote.Value(jobId)} does not exist") => JobId = jobId;

    public JobNotFoundException(string message, Exception innerException) : base(message, innerException) { }

    [Id(0)] public string JobId { get; init; } = "";
}
