namespace Plateau.Coordinator.Jobs;

[GenerateSerializer]
public sealed class SubmitRequestState
{
    /// <summary>The job this request id created (or is creating); empty before the first submission.</summary>
    [Id(0)] public string JobId { get; set; } = "";

    /// <summary><see cref="SubmissionFingerprint"/> of the first submission's spec and requested job id.</summary>
    [Id(1)] public string Fingerprint { get; set; } = "";
}
