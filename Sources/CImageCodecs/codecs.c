// Image codecs over libpng and libjpeg.
