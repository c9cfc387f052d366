"""The regulator's dashboard: the signed regulator API as pages and CSV, and the MiCA Art. 22 report."""
