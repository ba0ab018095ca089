namespace Plateau.Coordinator.Storage;

/// <summary>Options of a <see cref="FileGrainStorage"/> (configuration: <c>Plateau:Coordinator:StateDirectory</c>).</summary>
public sealed class FileGrainStorageOptions
{
    /// <summary>Folder holding one JSON file per grain state.</summary>
    public string RootDirectory { get; set; } = "";
}
