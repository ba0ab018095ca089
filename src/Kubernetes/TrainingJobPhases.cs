namespace Plateau.Kubernetes;

public static class TrainingJobPhases
{
    /// <summary>The object was never submitted: its name or spec is invalid (the Submitted condition says why).</summary>
    public const string Rejected = "Rejected";
}
