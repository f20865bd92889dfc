using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class TrackerFactoryTests : IDisposable
{
    private readonly TempStore _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void NullOrEmpty_UsesArtifactsMlrunsUnderRepoRoot()
    {
        var tracker = Assert.IsType<MlflowFileStore>(TrackerFactory.Create(null, _temp.Folder));
        Assert.Equal(Path.Combine(_temp.Folder, "artifacts", "mlruns"), tracker.RootDirectory);
        Assert.True(File.Exists(Path.Combine(_temp.Folder, "artifacts", "mlruns", "0", "meta.yaml")));
        Assert.Equal(tracker.RootDirectory, ((MlflowFileStore)TrackerFactory.Create("  ", _temp.Folder)).RootDirectory);
    }

    [Fact]
    public void PlainPathsAndFileUris_PointAtAFileStore()
    {
        Assert.Equal(Path.Combine(_temp.Folder, "rel"), TrackerFactory.ResolveFileStoreRoot("rel", _temp.Folder));
        Assert.Equal("/abs/store", TrackerFactory.ResolveFileStoreRoot("/abs/store", _temp.Folder));
        Assert.Equal("/abs/my store", TrackerFactory.ResolveFileStoreRoot("file:///abs/my%20store", _temp.Folder));
        Assert.Equal("/abs/store", TrackerFactory.ResolveFileStoreRoot("file://localhost/abs/store", _temp.Folder));
        var store = Assert.IsType<MlflowFileStore>(TrackerFactory.Create("file://" + _temp.Root, _temp.Folder));
        Assert.Equal(_temp.Root, store.RootDirectory);
    }

    [Theory]
    [InlineData("http://localhost:5000")]
    [InlineData("https://mlflow.example.com")]
    public void Http_IsNotSupportedYet(string uri)
    {
        var e = Assert.Throws<NotSupportedException>(() => TrackerFactory.Create(uri, _temp.Folder));
        Assert.StartsWith("MLflow REST tracking is not implemented yet", e.Message);
    }

    [Fact]
    public void OtherSchemes_AreNotSupported() =>
        Assert.Throws<NotSupportedException>(() => TrackerFactory.Create("sqlite:///mlflow.db", _temp.Folder));
}
