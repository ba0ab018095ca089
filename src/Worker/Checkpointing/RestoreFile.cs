namespace Plateau.Worker.Checkpointing;

/// <summary>A checkpoint file to restore from; a downloaded copy is deleted on dispose, the shared store's file never.</summary>
public sealed class RestoreFile(string path, bool deleteOnDispose) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        if (deleteOnDispose)
        {
            File.Delete(Path);
        }
    }
}
