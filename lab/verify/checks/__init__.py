"""One module per section of the guide; each check takes the Target and returns Results.
Checks read and query; the only writes are the guide's own filestore test file and a
scratch schema the consistency check drops again."""
