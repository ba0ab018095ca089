namespace Plateau.Cluster;

public enum ClusteringProvider
{
    /// <summary>Development clustering on loopback: the coordinator is the primary silo.</summary>
    Localhost,

    /// <summary>Membership table in a database through ADO.NET (PostgreSQL with Npgsql).</summary>
    AdoNet,
}
