namespace Plateau.Contracts.Specs;

/// <summary>A spec failed validation (gRPC INVALID_ARGUMENT); every error names its field.</summary>
[GenerateSerializer, Alias("plateau.JobSpecInvalidException")]
public sealed class JobSpecInvalidException : Exception
{
    public JobSpecInvalidException() { }

    public JobSpecInvalidException(string message) : base(message) { }

    public JobSpecInvalidException(string message, Exception innerException) : base(message, innerException) { }

    public JobSpecInvalidException(IReadOnlyList<SpecError> errors)
        : base(string.Join("; ", errors.Select(e => e.ToString()))) => Errors = errors;

    [Id(0)] public IReadOnlyList<SpecError> Errors { get; init; } = [];
}
