namespace Plateau.Kubernetes;

/// <summary>Configuration section <c>Plateau:Kubernetes</c>: the coordinator's TrainingJob controller.</summary>
public sealed class TrainingJobControllerOptions
{
    public const string SectionName = "Plateau:Kubernetes";

    /// <summary>Run the controller (needs the in-cluster service account and the RBAC of k8s/base/rbac.yaml).</summary>
    public bool Enabled { get; set; }

    /// <summary>Namespace whose TrainingJobs are reconciled; empty: the pod's own namespace.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>Seconds between passes over every TrainingJob of the namespace.</summary>
    public double ResyncSeconds { get; set; } = 5;
}
