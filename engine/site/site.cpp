#include "engine/site/site.hpp"
